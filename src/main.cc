#include "wikistream/app/cli.h"

int main(int argc, char** argv) { return ws::app::Main(argc, argv); }
