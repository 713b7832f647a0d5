"""``python -m xtract_extractors``: the extractor families this installation serves and
which of their libraries are missing: an extractor image's default command (the image
has no service, so no ``xtract`` CLI)."""

from xtract_extractors.kinds import families_table

if __name__ == "__main__":
    print(families_table()[1])
