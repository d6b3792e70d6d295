"""cdktf app entry point (cdktf.json "app"): synthesize the selected environments.

``make synth`` is the friendlier front end (progress, summary, policy gate); both run this.
"""

from stacks.synth import main

if __name__ == "__main__":
    raise SystemExit(main(summary=False))
