// Placeholder: the kernels are registered here (filled in by the foundation work).
#include <napi.h>
static Napi::Object Init(Napi::Env env, Napi::Object exports) { return exports; }
NODE_API_MODULE(mpcache_kernels, Init)
