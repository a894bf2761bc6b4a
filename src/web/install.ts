// What the browser entry installs (Note [Platforms] in core/platform.ts). The page's platform
// services are core/platform.ts's defaults; the model stores are registered here.
