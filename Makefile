# The two commands of the README. Everything they do is in scripts/.
BUILD ?= build

.PHONY: run check build clean

run: build
	./$(BUILD)/app/kestrel-cli info

build:
	scripts/install-deps.sh
	@if [ -f $(BUILD)/build.ninja ]; then :; else meson setup $(BUILD); fi
	meson compile -C $(BUILD)

check:
	scripts/check.sh

clean:
	rm -rf $(BUILD) build-asan
