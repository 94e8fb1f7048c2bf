# The two commands of the README. Everything they do is in scripts/.
BUILD ?= build

.PHONY: run check build clean

# The application, uninstalled: the schema compiled into $(BUILD)/data and
# the sample photos of the source tree. Without a display (or a build
# without GTK) there is no window to open: say so and show what Kestrel
# detects about this machine instead.
run: build
	@if [ -z "$${DISPLAY:-}$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "make run: no display (DISPLAY and WAYLAND_DISPLAY are unset), so no window;"; \
	  echo "          run it in a desktop session to open Kestrel. What Kestrel detects here:"; \
	  ./$(BUILD)/app/kestrel-cli info; \
	elif [ ! -x $(BUILD)/app/kestrel ]; then \
	  echo "make run: $(BUILD) was built without GTK 4 / libadwaita, so no window;"; \
	  echo "          what Kestrel detects here:"; \
	  ./$(BUILD)/app/kestrel-cli info; \
	else \
	  GSETTINGS_SCHEMA_DIR="$(CURDIR)/$(BUILD)/data" \
	  KESTREL_SAMPLES_DIR="$(CURDIR)/data/samples" \
	  ./$(BUILD)/app/kestrel; \
	fi

build:
	scripts/install-deps.sh
	@if [ -f $(BUILD)/build.ninja ]; then :; else meson setup $(BUILD); fi
	meson compile -C $(BUILD)

check:
	KESTREL_BUILD=$(BUILD) scripts/check.sh

clean:
	rm -rf $(BUILD) build-asan build-tsan build-fuzz build-aarch64-cross
