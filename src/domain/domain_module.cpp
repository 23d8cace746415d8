// Placeholder so the domain library exists before its first real source; removed when one lands.
namespace statgov::domain { int module_marker = 0; }
