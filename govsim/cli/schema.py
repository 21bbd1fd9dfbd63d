"""``govsim schema``: the JSON Schema of scenario files, for editor help.

    govsim schema                       # print it
    govsim schema --out FILE            # write it (a folder: FOLDER/scenario.schema.json)

Name it on the first line of a scenario file,
``# yaml-language-server: $schema=scenario.schema.json``, and a YAML editor
completes keys, shows their documentation and flags typos (``docs/presets.md``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_schema(args: argparse.Namespace) -> int:
    from govsim.experiments import ExperimentError
    from govsim.presets import SCHEMA_NAME
    from govsim.scenario.jsonschema import schema_text

    text = schema_text()
    if args.out is None:
        sys.stdout.write(text)
        return 0
    path = Path(args.out)
    if path.is_dir():
        path = path / SCHEMA_NAME
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as err:
        raise ExperimentError(f"--out {args.out}: cannot write the schema ({err.strerror or err})") from None
    print(f"wrote {path}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="print (or write) the JSON Schema of scenario files, for editor help",
                       description="The JSON Schema (draft 2020-12) of scenario files, generated from the "
                                   "declarations the loader reads. Name it on a scenario file's first line, "
                                   "'# yaml-language-server: $schema=scenario.schema.json', for completion, "
                                   "documentation and typo checks in YAML editors.")
    p.add_argument("--out", metavar="FILE", help="write it to FILE (a folder: FOLDER/scenario.schema.json) "
                                                 "instead of printing it")
    p.set_defaults(func=cmd_schema)
