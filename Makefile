# Shortcuts; README's two commands are scripts/setup.sh and scripts/test.sh.
.PHONY: setup test package sample

setup:
	./scripts/setup.sh

test:
	./scripts/test.sh

sample:
	./scripts/run_sample.sh

# A zip that QGIS's "Install from ZIP" accepts: one top folder `csagf` with metadata.txt, from committed files only.
package:
	mkdir -p build
	git archive --format=zip --prefix=csagf/ -o build/csagf.zip HEAD \
	  $$(git ls-tree --name-only HEAD metadata.txt __init__.py README.md csagf_plugin models resources)
	@echo "build/csagf.zip"
