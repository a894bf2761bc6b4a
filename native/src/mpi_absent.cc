// The MPI calls of an addon built without MPI (scripts/detect-mpi.mjs found no mpicc): mpiStatus
// says why, and every collective throws the same reason. st.distributed.available() reads it.
#include "common.h"

namespace strata {
namespace {

const char* kWhy =
    "the native addon was built without MPI (mpicc was not found when it was built, or STRATA_WITHOUT_MPI=1 was set); install Debian's libopenmpi-dev and openmpi-bin, "
    "then run `npm rebuild strata`";

[[noreturn]] void absent(Napi::Env env) { throw Napi::Error::New(env, std::string("distributed: ") + kWhy); }

}  // namespace

Napi::Value calls::mpiStatus(Napi::Env env, const MpiStatusArgs&) { return Napi::String::New(env, kWhy); }
Napi::Value calls::mpiInit(Napi::Env env, const MpiInitArgs&) { absent(env); }
Napi::Value calls::mpiAllreduce(Napi::Env env, const MpiAllreduceArgs&) { absent(env); }
Napi::Value calls::mpiAllreduceHost(Napi::Env env, const MpiAllreduceHostArgs&) { absent(env); }
Napi::Value calls::mpiBroadcast(Napi::Env env, const MpiBroadcastArgs&) { absent(env); }
Napi::Value calls::mpiBroadcastHost(Napi::Env env, const MpiBroadcastHostArgs&) { absent(env); }
Napi::Value calls::mpiAllgatherHost(Napi::Env env, const MpiAllgatherHostArgs&) { absent(env); }
Napi::Value calls::mpiBarrier(Napi::Env env, const MpiBarrierArgs&) { absent(env); }
Napi::Value calls::mpiPending(Napi::Env env, const MpiPendingArgs&) { return Napi::Number::New(env, 0); }
Napi::Value calls::mpiFinalize(Napi::Env env, const MpiFinalizeArgs&) { return Napi::Boolean::New(env, true); }
Napi::Value calls::mpiAbort(Napi::Env env, const MpiAbortArgs&) { return env.Undefined(); }

}  // namespace strata
