// What the browser entry installs (Note [Platforms] in core/platform.ts). The page's platform
// services are core/platform.ts's defaults; the model stores are registered here, one file each:
//   indexeddb://   save and load in the site's IndexedDB (indexeddb-store.ts)
//   downloads://   save only: the browser downloads the files (downloads-store.ts)
//   http(s)://     load by GET, save by multipart POST (http-store.ts)
//   no scheme      load only: a URL relative to the page, fetched like http (a page has no
//                  file system, so a plain path can only mean the page's server)
// Files a user picked load through st.loadModel(files) itself (models/files-source.ts).
import { registerModelStore } from '../models/model-stores.js';
import { downloadsStore } from './downloads-store.js';
import { httpStore, relativeUrlStore } from './http-store.js';
import { indexedDbStore } from './indexeddb-store.js';

registerModelStore('indexeddb', indexedDbStore);
registerModelStore('downloads', downloadsStore);
registerModelStore('http', httpStore);
registerModelStore('https', httpStore);
registerModelStore('', relativeUrlStore);
