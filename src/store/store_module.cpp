// Placeholder so the store library exists before its first real source; removed when one lands.
namespace statgov::store { int module_marker = 0; }
