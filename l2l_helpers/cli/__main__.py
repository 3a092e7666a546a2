import sys

from l2l_helpers.cli import main

sys.exit(main())
