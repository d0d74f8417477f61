"""`python -m aigateway_sdk ...` is the `aigateway` command."""

import sys

from aigateway_sdk.cli.main import main

sys.exit(main())
