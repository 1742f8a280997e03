"""``python -m segstudio [image_dir] [class_file] [save_dir]`` starts the desktop app."""

import sys

from segstudio.app import main

sys.exit(main())
