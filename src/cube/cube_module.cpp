// Placeholder so the cube library exists before its first real source; removed when one lands.
namespace statgov::cube { int module_marker = 0; }
