"""``govsim presets``: the preset scenarios shipped with govsim, and copies to start from.

    govsim presets                      # list them: name, description, what each extends
    govsim presets copy NAME FILE       # a standalone copy (bases merged in) + the schema

Every command that takes a scenario file also takes a preset's name
(``govsim run hongqi``); a file that exists wins (see ``docs/presets.md``).
"""

from __future__ import annotations

import argparse


def cmd_presets(args: argparse.Namespace) -> int:
    if getattr(args, "action", None) == "copy":
        return _copy(args)
    from govsim.presets import PRESET_DIR, presets

    items = presets()
    width = max(len(p.name) for p in items)
    print(f"{'preset':<{width}}  description")
    for p in items:
        based = f" (extends {', '.join(p.extends)})" if p.extends else ""
        print(f"{p.name:<{width}}  {p.description}{based}")
    print(f"\n{len(items)} presets in {PRESET_DIR}")
    print("Run one by name (govsim run smart_dispatch); start your own from a copy "
          "(govsim presets copy hongqi my.yaml).")
    return 0


def _copy(args: argparse.Namespace) -> int:
    from govsim.experiments import ExperimentError
    from govsim.presets import SCHEMA_NAME, copy_preset, find_preset, may_write_schema

    try:
        written = copy_preset(args.name, args.file, overwrite=args.force)
    except FileExistsError as err:
        raise ExperimentError(f"{err}: the file exists; give --force to overwrite it") from None
    except OSError as err:
        raise ExperimentError(f"{args.file}: cannot write the copy ({err.strerror or err})") from None
    source = find_preset(args.name)
    print(f"wrote {written[0]} (a standalone copy of {source})")
    schema = written[0].parent / SCHEMA_NAME
    if schema in written:
        print(f"wrote {schema} (the scenario format, for editor help: the copy's first line names it)")
    elif not may_write_schema(schema):
        print(f"note: {schema} exists and is not govsim's scenario schema: it was left as it is "
              f"(govsim schema --out FILE writes the schema elsewhere)")
    print(f"check it with: govsim validate {written[0]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("presets", help="list the preset scenarios (usable by name), or copy one to start from",
                       description="List the preset scenarios shipped with govsim. Any command that takes a "
                                   "scenario file also takes a preset's name (govsim run smart_dispatch); "
                                   "a file that exists wins.")
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    actions.add_parser("list", help="list the presets (the default)")
    c = actions.add_parser("copy", help="write a standalone copy of a preset (its bases merged in) and the "
                                        "scenario schema beside it")
    c.add_argument("name", metavar="NAME", help="preset name, e.g. hongqi (govsim presets lists them)")
    c.add_argument("file", metavar="FILE", help="where to write the copy (a folder: NAME.yaml in it)")
    c.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=cmd_presets)
