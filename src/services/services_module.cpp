// Placeholder so the services library exists before its first real source; removed when one lands.
namespace statgov::services { int module_marker = 0; }
