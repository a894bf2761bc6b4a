// What the Node entry installs before the API is used (Note [Platforms] in core/platform.ts):
// Node's services, the native backend, and the file system as a model store. Imported first by
// src/index.ts, so it runs before any user code.
import '../backend/native/index.js'; // registers the native backend (priority 10)
import { setPlatform } from '../core/platform.js';
import { fileStore } from '../models/file-store.js';
import { registerModelStore } from '../models/model-stores.js';
import { nodePlatform } from './platform.js';

setPlatform(nodePlatform);
registerModelStore('', fileStore);
registerModelStore('file', fileStore);
