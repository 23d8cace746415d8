// Placeholder so the app library exists before its first real source; removed when one lands.
namespace statgov::app { int module_marker = 0; }
