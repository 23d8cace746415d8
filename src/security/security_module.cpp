// Placeholder so the security library exists before its first real source; removed when one lands.
namespace statgov::security { int module_marker = 0; }
