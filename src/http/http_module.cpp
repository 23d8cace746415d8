// Placeholder so the http library exists before its first real source; removed when one lands.
namespace statgov::http { int module_marker = 0; }
