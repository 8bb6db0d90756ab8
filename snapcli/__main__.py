from snapcli import run

run()
