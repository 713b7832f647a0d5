"""``python -m xtract_service.cli``: how ``xtract serve`` starts its workers."""

from xtract_service.cli import main

main()
