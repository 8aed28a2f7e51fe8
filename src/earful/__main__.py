from earful.cli.main import main

main()
