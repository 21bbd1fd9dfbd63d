"""Cities (城市): districts run as shards, in parallel, with city-level shared services.

A city file names its districts (each a whole scenario, by file or preset, with
overrides) and the services they share — a city 12345 call centre
(:mod:`govsim.city.centre`), city departments and a city mediation centre
(:mod:`govsim.city.services`). The districts run in parallel on local processes or
a Dask cluster; each shared service sees the merged stream of all of them; the
result is one :class:`CityResult`, the same whatever the number of workers and the
same as the whole city in one engine (``docs/scale.md``).

    >>> import govsim
    >>> result = govsim.run_city("benchmarks/city_small.yaml", jobs=2)   # doctest: +SKIP
    >>> result.summary()                                                # doctest: +SKIP
"""

from govsim.city.config import City, CityConfig, DistrictConfig, SharedConfig, SharedHotlineConfig, load_city
from govsim.city.result import CityResult, DistrictOutput, table_hashes
from govsim.city.run import district_seed, run_city

__all__ = ["City", "CityConfig", "CityResult", "DistrictConfig", "DistrictOutput", "SharedConfig",
           "SharedHotlineConfig", "district_seed", "load_city", "run_city", "table_hashes"]
