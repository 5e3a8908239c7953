"""`python -m reasongym.check_template MODEL`: is this model's chat template safe for multi-turn RL?

Renders small transcripts (user feedback and tool results after assistant replies, with and without
`<think>` blocks, with and without a system prompt) and checks that each rendering is a prefix of the
next, so multi-turn training rows hold exactly the tokens the policy sampled from (see
reasongym/lm/template_check.py for why it matters and the fallback when it fails).

    python -m reasongym.check_template smollm2                 # the embedded default (also: base)
    python -m reasongym.check_template path/to/model_folder    # any local Hugging Face folder
    python -m reasongym.check_template Qwen/Qwen3-0.6B         # a hub name (needs the network once)
    python -m reasongym.check_template smollm2 --roles tool --no-think --json

Exit status: 0 prefix-preserving, 1 not (the problems are printed), 2 the tokenizer could not be loaded.
Only the tokenizer is loaded, never the weights.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from reasongym.lm.models import resolve_model
from reasongym.lm.template_check import ENV_ROLES, TemplateError, check_template


def load_tokenizer(model: str):
    """The tokenizer of `model`: the embedded default's converted folder, a local folder, or a hub name."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model(model))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reasongym.check_template", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="smollm2 / base (the embedded default), a local folder or a hub name")
    parser.add_argument("--roles", nargs="+", default=list(ENV_ROLES), choices=ENV_ROLES,
                        help="roles of the environment's messages after a reply (default: user tool)")
    parser.add_argument("--no-think", action="store_true", help="skip the transcripts with <think> blocks")
    parser.add_argument("--no-system", action="store_true", help="skip the transcripts with a system prompt")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    try:
        tokenizer = load_tokenizer(args.model)
        report = check_template(tokenizer, env_roles=args.roles, think=not args.no_think,
                                system=not args.no_system, name=args.model)
    except (OSError, ValueError, FileNotFoundError) as e:
        kind = "template" if isinstance(e, TemplateError) else "tokenizer"
        print(f"check_template: could not check the {kind} of {args.model!r}: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"model": args.model, "ok": report.ok, "scenarios": report.scenarios,
                          "problems": [asdict(p) for p in report.problems]}, indent=1))
    else:
        print(report)
        if not report.ok:
            print("Multi-turn training with this template needs fallback='delta' (sampled tokens kept verbatim) "
                  "or a fixed template; see reasongym/lm/template_check.py.")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
