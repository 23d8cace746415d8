#include "app/cli.hpp"

int main(int argc, char** argv) { return statgov::app::run(argc, argv); }
