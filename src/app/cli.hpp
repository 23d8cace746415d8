// The statgov command line: serve, migrate, demo, user, import, audit. Thin wiring only.
#pragma once

namespace statgov::app {

int run(int argc, char** argv);

}  // namespace statgov::app
