import sys

from tomconsole.cli import main

sys.exit(main())
