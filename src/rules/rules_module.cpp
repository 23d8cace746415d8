// Placeholder so the rules library exists before its first real source; removed when one lands.
namespace statgov::rules { int module_marker = 0; }
