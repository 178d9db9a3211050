from istiolint.entry import run

run()
