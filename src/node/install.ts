// What the Node entry installs before the API is used (Note [Platforms] in core/platform.ts):
// Node's services, the native, wasm and webgpu backends, and the file system and http(s) as model stores. Imported
// first by src/index.ts, so it runs before any user code.
import '../backend/native/index.js'; // registers the native backend (priority 10)
import { nodeCollector } from '../backend/wasm/gc-node.js';
import { registerWasmBackend, setWasmCollector, setWasmWorkerFactory } from '../backend/wasm/index.js';
import { nodeWorkerFactory } from '../backend/wasm/workers-node.js';
import { registerWebGpuBackend, setGpuProvider, setWebGpuCollector } from '../backend/webgpu/index.js';
import { setPlatform } from '../core/platform.js';
import { fileStore } from './file-store.js';
import { registerModelStore } from '../models/model-stores.js';
import { setCommunicatorProvider } from '../distributed/communicator.js';
import { mpiProvider } from './mpi-communicator.js';
import { httpStore } from '../web/http-store.js';
import { nodePlatform } from './platform.js';
import './onnx-files.js'; // st.onnx.load(path) reads files
import './tfjs-files.js'; // st.tfjs.load(path) reads model.json and its shards
import './keras-files.js'; // st.keras.load(path) reads .keras and .h5 files
import './torch-files.js'; // st.torch reads and writes state dicts by path
import { NO_ADAPTER_HINT, destroyAtExit, nodeGpu } from './webgpu-provider.js';

setPlatform(nodePlatform);
// The wasm backend (priority 5): its threads are worker_threads, and dead tensors' storage can be
// collected on demand through V8's gc (Note [Freeing dead storage synchronously]).
setWasmWorkerFactory(nodeWorkerFactory);
setWasmCollector(nodeCollector);
registerWasmBackend();
// The webgpu backend through Dawn (the npm `webgpu` package), opened by `await st.setBackend('webgpu')`.
setGpuProvider(nodeGpu, NO_ADAPTER_HINT, destroyAtExit);
setWebGpuCollector(nodeCollector);
registerWebGpuBackend();
// Distributed training over MPI, through the native addon (st.distributed).
setCommunicatorProvider(mpiProvider);
registerModelStore('', fileStore);
registerModelStore('file', fileStore);
// A model on a web server loads (and saves by POST) from Node too: the http store needs only fetch.
registerModelStore('http', httpStore);
registerModelStore('https', httpStore);
