// The collectives of distributed training over MPI (Debian's OpenMPI), built only when
// scripts/detect-mpi.mjs finds it (mpi_absent.cc otherwise). src/node/mpi-communicator.ts is the
// TypeScript side.
//
// Note [One communication thread]
// Every MPI call is made by one thread that mpiInit starts, fed by a FIFO queue:
// - collectives must be issued in the same order on every rank; one queue, filled by the one
//   JavaScript thread in program order, guarantees it;
// - the main thread goes on computing (the rest of the backward pass) while a gradient bucket
//   is reduced, which is the overlap data-parallel training needs;
// - JavaScript waits for a promise, not in a blocking call, so timers (the watchdog that turns
//   a dead peer into an error), signals and the progress bar keep running while it waits.
// The buffers of a job are kept alive until it completes: their JS handles are referenced
// (against the garbage collector) and their owner count raised (against dispose()). Completion
// comes back to the main thread through a thread-safe function, where the promise settles and
// the owners are released. MPI_THREAD_MULTIPLE is asked for only so that mpiAbort may be called
// from the main thread while the communication thread is stuck in a collective.
#include <dlfcn.h>
// The C API only: OpenMPI's deprecated C++ bindings would need libmpi_cxx at load time.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "common.h"

namespace strata {
namespace {

struct Span {
  void* data;
  size_t bytes;
};

struct Job {
  const char* what;
  std::function<int()> run;  // on the communication thread; returns an MPI error code
  Napi::Promise::Deferred deferred;
  std::vector<Napi::Reference<Napi::Value>> keep;
  std::vector<Buffer*> owned;
  int code = MPI_SUCCESS;
  explicit Job(Napi::Env env, const char* w) : what(w), deferred(Napi::Promise::Deferred::New(env)) {}
};

// MPI counts are ints: larger messages go in pieces of at most this many elements.
constexpr size_t kMaxCount = size_t{1} << 30;

class Communicator {
 public:
  int rank = 0, size = 1, provided = MPI_THREAD_SINGLE;
  std::string library;
  bool started = false, finalized = false;
  int pending = 0;  // jobs submitted and not yet settled (main thread only)
  std::vector<float> staging;  // the fused buckets' message (communication thread only)

  // Starts the thread and initializes MPI on it; throws a JS error on failure.
  void start(Napi::Env env) {
    if (finalized) throw Napi::Error::New(env, "distributed: MPI was finalized in this process; it cannot be initialized again (MPI's rule)");
    if (started) throw Napi::Error::New(env, "distributed: MPI is already initialized in this process");
    // Node loads addons with RTLD_LOCAL, which hides libmpi's symbols from the plugins OpenMPI
    // loads during MPI_Init (they fail with undefined symbols); reopening it global fixes that.
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&MPI_Init_thread), &info) && info.dli_fname) dlopen(info.dli_fname, RTLD_NOW | RTLD_GLOBAL | RTLD_NOLOAD);
    std::promise<std::string> ready;
    auto result = ready.get_future();
    thread_ = std::thread([this, &ready] {
      int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_MULTIPLE, &provided);
      if (rc != MPI_SUCCESS) return ready.set_value(error_text(rc));
      // Errors come back as codes (reported in the promise), instead of MPI aborting the job.
      MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
      MPI_Comm_rank(MPI_COMM_WORLD, &rank);
      MPI_Comm_size(MPI_COMM_WORLD, &size);
      char version[MPI_MAX_LIBRARY_VERSION_STRING];
      int length = 0;
      MPI_Get_library_version(version, &length);
      library.assign(version, static_cast<size_t>(length));
      library = library.substr(0, library.find_first_of(",\n"));
      ready.set_value("");
      loop();
    });
    const std::string failure = result.get();
    if (!failure.empty()) {
      thread_.join();
      throw Napi::Error::New(env, "distributed: MPI_Init_thread failed: " + failure);
    }
    done_ = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "strata-mpi", 0, 1);
    // Like pending I/O, a job in flight keeps the process alive; an idle communicator does not.
    done_.Unref(env);
    // When Node tears the environment down (exit with a job still in flight), the thread must
    // stop calling back into it; registered after the function, so it runs before its cleanup.
    napi_add_env_cleanup_hook(
        env,
        [](void* self) {
          auto* c = static_cast<Communicator*>(self);
          std::lock_guard<std::mutex> lock(c->mutex_);
          c->closing_ = true;
        },
        this);
    started = true;
  }

  Napi::Value submit(Napi::Env env, std::unique_ptr<Job> job) {
    if (!started || finalized) throw Napi::Error::New(env, std::string("distributed: ") + job->what + " before st.distributed.init() (or after finalize)");
    for (Buffer* b : job->owned) {
      b->owners++;
      restamp(b);  // a collective may write it in place (Note [Reordered filters kept] in weight_cache.h)
    }
    Napi::Promise promise = job->deferred.Promise();
    if (pending++ == 0) done_.Ref(env);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(job.release());
    }
    wake_.notify_one();
    return promise;
  }

  // Asks the thread to finalize MPI after the queued jobs; false when it did not finish in time
  // (a collective is stuck: the thread is left behind and MPI is not finalized).
  bool finalize(double timeout_seconds) {
    if (!started || finalized) return true;
    finalized = true;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    std::unique_lock<std::mutex> lock(mutex_);
    const bool ok = stopped_cv_.wait_for(lock, std::chrono::duration<double>(timeout_seconds), [this] { return stopped_; });
    lock.unlock();
    if (ok) {
      thread_.join();
    } else {
      // Stuck in a collective: leave the thread, and keep it from calling back when it returns.
      thread_.detach();
      std::lock_guard<std::mutex> guard(mutex_);
      closing_ = true;
    }
    done_.Release();
    return ok;
  }

  static std::string error_text(int code) {
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
    return std::string(text, static_cast<size_t>(length));
  }

 private:
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_, stopped_cv_;
  std::deque<Job*> queue_;
  bool stopping_ = false, stopped_ = false, closing_ = false;
  Napi::ThreadSafeFunction done_;

  void loop() {
    for (;;) {
      Job* job = nullptr;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return !queue_.empty() || stopping_; });
        if (queue_.empty()) break;
        job = queue_.front();
        queue_.pop_front();
      }
      job->code = job->run();
      std::lock_guard<std::mutex> lock(mutex_);
      if (!closing_) done_.NonBlockingCall(job, [](Napi::Env env, Napi::Function, Job* finished) { settle(env, finished); });
    }
    MPI_Finalize();
    std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    stopped_cv_.notify_all();
  }

  static void settle(Napi::Env env, Job* job);
};

Communicator& comm() {
  static Communicator* c = new Communicator();  // never destroyed: a detached thread may still use it at exit
  return *c;
}

void Communicator::settle(Napi::Env env, Job* job) {
  std::unique_ptr<Job> owned(job);
  if (--comm().pending == 0 && !comm().finalized) comm().done_.Unref(env);
  for (Buffer* b : job->owned)
    if (b->data && --b->owners <= 0) free_buffer_data(b);
  if (job->code == MPI_SUCCESS) job->deferred.Resolve(env.Undefined());
  else job->deferred.Reject(Napi::Error::New(env, std::string("distributed: ") + job->what + " failed: " + error_text(job->code)).Value());
}

void scale(float* p, size_t n, double factor) {
  if (factor == 1.0) return;
  const float f = static_cast<float>(factor);
  for (size_t i = 0; i < n; i++) p[i] *= f;
}

int allreduce_floats(void* send, void* recv, size_t count, MPI_Datatype type) {
  const size_t width = type == MPI_DOUBLE ? 8 : 4;
  for (size_t done = 0; done < count; done += kMaxCount) {
    const int n = static_cast<int>(std::min(kMaxCount, count - done));
    void* s = send == MPI_IN_PLACE ? MPI_IN_PLACE : static_cast<char*>(send) + done * width;
    const int rc = MPI_Allreduce(s, static_cast<char*>(recv) + done * width, n, type, MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return rc;
  }
  return MPI_SUCCESS;
}

int broadcast_bytes(void* data, size_t bytes, int root) {
  for (size_t done = 0; done < bytes; done += kMaxCount) {
    const int n = static_cast<int>(std::min(kMaxCount, bytes - done));
    const int rc = MPI_Bcast(static_cast<char*>(data) + done, n, MPI_BYTE, root, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return rc;
  }
  return MPI_SUCCESS;
}

// Several buffers are summed as one message (Horovod's tensor fusion): packed into a staging
// buffer, scaled on the way in, reduced in place, unpacked scaled on the way out. One buffer is
// reduced where it lies, with no copy.
int allreduce_spans(const std::vector<Span>& in, const std::vector<Span>& out, double pre, double post, std::vector<float>& staging) {
  if (in.size() == 1) {
    float* src = static_cast<float*>(in[0].data);
    float* dst = static_cast<float*>(out[0].data);
    const size_t n = in[0].bytes / 4;
    if (pre != 1.0) {
      if (dst != src)
        for (size_t i = 0; i < n; i++) dst[i] = src[i] * static_cast<float>(pre);
      else
        scale(dst, n, pre);
      src = dst;
    }
    const int rc = allreduce_floats(src == dst ? MPI_IN_PLACE : src, dst, n, MPI_FLOAT);
    scale(dst, n, post);
    return rc;
  }
  size_t total = 0;
  for (const Span& s : in) total += s.bytes / 4;
  if (staging.size() < total) staging.resize(total);
  size_t at = 0;
  for (const Span& s : in) {
    const float* p = static_cast<const float*>(s.data);
    const size_t n = s.bytes / 4;
    const float f = static_cast<float>(pre);
    for (size_t i = 0; i < n; i++) staging[at + i] = p[i] * f;
    at += n;
  }
  const int rc = allreduce_floats(MPI_IN_PLACE, staging.data(), total, MPI_FLOAT);
  if (rc != MPI_SUCCESS) return rc;
  at = 0;
  for (const Span& s : out) {
    float* p = static_cast<float*>(s.data);
    const size_t n = s.bytes / 4;
    const float f = static_cast<float>(post);
    for (size_t i = 0; i < n; i++) p[i] = staging[at + i] * f;
    at += n;
  }
  return MPI_SUCCESS;
}

// The buffers behind `handles`, kept alive by `job` until it settles.
std::vector<Span> hold(Job& job, const std::vector<Napi::Value>& handles) {
  std::vector<Span> spans;
  for (const Napi::Value& h : handles) {
    Buffer* b = get_buffer(h);
    job.keep.push_back(Napi::Persistent(h));
    job.owned.push_back(b);
    spans.push_back({b->data, b->bytes});
  }
  return spans;
}

Span hold_host(Job& job, const Napi::TypedArray& values) {
  job.keep.push_back(Napi::Persistent(static_cast<Napi::Value>(values)));
  return {static_cast<uint8_t*>(values.ArrayBuffer().Data()) + values.ByteOffset(), values.ByteLength()};
}

void check_started(Napi::Env env, const char* what) {
  if (!comm().started || comm().finalized)
    throw Napi::Error::New(env, std::string("distributed: ") + what + " needs st.distributed.init() first (and not after finalize)");
}

void check_root(Napi::Env env, int64_t root) {
  if (root < 0 || root >= comm().size)
    throw Napi::RangeError::New(env, "distributed: broadcast root " + std::to_string(root) + " is not a rank of this job (0 to " + std::to_string(comm().size - 1) + ")");
}

}  // namespace

Napi::Value calls::mpiStatus(Napi::Env env, const MpiStatusArgs&) { return Napi::String::New(env, ""); }

Napi::Value calls::mpiInit(Napi::Env env, const MpiInitArgs&) {
  Communicator& c = comm();
  c.start(env);
  auto o = Napi::Object::New(env);
  o.Set("rank", c.rank);
  o.Set("size", c.size);
  const char* levels[] = {"single", "funneled", "serialized", "multiple"};
  o.Set("threadLevel", c.provided >= MPI_THREAD_SINGLE && c.provided <= MPI_THREAD_MULTIPLE ? levels[c.provided - MPI_THREAD_SINGLE] : "unknown");
  o.Set("library", c.library);
  return o;
}

// The sizes are checked here as well as in TypeScript: a mismatch would write past a buffer.
Napi::Value calls::mpiAllreduce(Napi::Env env, const MpiAllreduceArgs& args) {
  check_started(env, "allreduce");
  if (args.bufs.empty()) throw Napi::Error::New(env, "distributed: allreduce of no buffers");
  if (!args.outs.empty() && args.outs.size() != args.bufs.size())
    throw Napi::Error::New(env, "distributed: allreduce needs as many outputs as inputs (or none, for in place)");
  auto job = std::make_unique<Job>(env, "allreduce");
  std::vector<Span> in = hold(*job, args.bufs);
  std::vector<Span> out = args.outs.empty() ? in : hold(*job, args.outs);
  for (size_t i = 0; i < in.size(); i++)
    if (in[i].bytes != out[i].bytes) throw Napi::Error::New(env, "distributed: allreduce output " + std::to_string(i) + " differs in size from its input");
  const double pre = args.pre_scale, post = args.post_scale;
  job->run = [in, out, pre, post] { return allreduce_spans(in, out, pre, post, comm().staging); };
  return comm().submit(env, std::move(job));
}

Napi::Value calls::mpiAllreduceHost(Napi::Env env, const MpiAllreduceHostArgs& args) {
  check_started(env, "allreduce");
  const napi_typedarray_type type = args.values.TypedArrayType();
  if (type != napi_float32_array && type != napi_float64_array)
    throw Napi::TypeError::New(env, "distributed: allreduce of host values takes a Float32Array or a Float64Array");
  auto job = std::make_unique<Job>(env, "allreduce");
  const Span s = hold_host(*job, args.values);
  const bool wide = type == napi_float64_array;
  const double post = args.post_scale;
  job->run = [s, wide, post] {
    const size_t n = s.bytes / (wide ? 8 : 4);
    const int rc = allreduce_floats(MPI_IN_PLACE, s.data, n, wide ? MPI_DOUBLE : MPI_FLOAT);
    if (post != 1.0) {
      if (wide)
        for (size_t i = 0; i < n; i++) static_cast<double*>(s.data)[i] *= post;
      else
        scale(static_cast<float*>(s.data), n, post);
    }
    return rc;
  };
  return comm().submit(env, std::move(job));
}

Napi::Value calls::mpiBroadcast(Napi::Env env, const MpiBroadcastArgs& args) {
  check_started(env, "broadcast");
  check_root(env, args.root);
  auto job = std::make_unique<Job>(env, "broadcast");
  std::vector<Span> spans = hold(*job, args.bufs);
  const int root = static_cast<int>(args.root);
  job->run = [spans, root] {
    for (const Span& s : spans) {
      const int rc = broadcast_bytes(s.data, s.bytes, root);
      if (rc != MPI_SUCCESS) return rc;
    }
    return MPI_SUCCESS;
  };
  return comm().submit(env, std::move(job));
}

Napi::Value calls::mpiBroadcastHost(Napi::Env env, const MpiBroadcastHostArgs& args) {
  check_started(env, "broadcast");
  check_root(env, args.root);
  auto job = std::make_unique<Job>(env, "broadcast");
  const Span s = hold_host(*job, args.values);
  const int root = static_cast<int>(args.root);
  job->run = [s, root] { return broadcast_bytes(s.data, s.bytes, root); };
  return comm().submit(env, std::move(job));
}

Napi::Value calls::mpiAllgatherHost(Napi::Env env, const MpiAllgatherHostArgs& args) {
  check_started(env, "allgather");
  if (args.values.TypedArrayType() != napi_float64_array || args.out.TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "distributed: allgather takes Float64Arrays");
  if (args.out.ElementLength() != args.values.ElementLength() * static_cast<size_t>(comm().size))
    throw Napi::RangeError::New(env, "distributed: allgather's output must hold size × the input's length");
  auto job = std::make_unique<Job>(env, "allgather");
  const Span in = hold_host(*job, args.values), out = hold_host(*job, args.out);
  job->run = [in, out] {
    const int n = static_cast<int>(in.bytes / 8);
    return MPI_Allgather(in.data, n, MPI_DOUBLE, out.data, n, MPI_DOUBLE, MPI_COMM_WORLD);
  };
  return comm().submit(env, std::move(job));
}

Napi::Value calls::mpiBarrier(Napi::Env env, const MpiBarrierArgs&) {
  check_started(env, "barrier");
  auto job = std::make_unique<Job>(env, "barrier");
  job->run = [] { return MPI_Barrier(MPI_COMM_WORLD); };
  return comm().submit(env, std::move(job));
}

Napi::Value calls::mpiPending(Napi::Env env, const MpiPendingArgs&) { return Napi::Number::New(env, comm().pending); }

Napi::Value calls::mpiFinalize(Napi::Env env, const MpiFinalizeArgs& args) { return Napi::Boolean::New(env, comm().finalize(args.timeout_seconds)); }

// Ends every process of the job (MPI_Abort reaches the others through mpirun).
Napi::Value calls::mpiAbort(Napi::Env env, const MpiAbortArgs& args) {
  if (comm().started) MPI_Abort(MPI_COMM_WORLD, static_cast<int>(args.code));
  return env.Undefined();
}

}  // namespace strata
