// Placeholder so the base library exists before its first real source; removed when one lands.
namespace statgov::base { int module_marker = 0; }
