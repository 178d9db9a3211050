from istiolint.cli import run

run()
