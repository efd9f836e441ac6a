from comfyhangar.cli import main

main()
