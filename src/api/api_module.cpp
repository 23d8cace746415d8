// Placeholder so the api library exists before its first real source; removed when one lands.
namespace statgov::api { int module_marker = 0; }
