// st.applications: ready-made image classifiers as functional models, keras.applications' way.
import { alexnet, type LeNet5Args, lenet5 } from './classic.js';
import type { ApplicationArgs } from './common.js';
import { denseNet121 } from './densenet.js';
import { inceptionV3 } from './inception-v3.js';
import { type MobileNetArgs, type MobileNetV1Args, mobileNet, mobileNetV2 } from './mobilenet.js';
import { resNet50, resNet50V2 } from './resnet.js';
import { resNet18, resNet34 } from './resnet-basic.js';
import { type SeBlockArgs, type SeResNetArgs, seBlock, seResNet50 } from './se.js';
import { vgg16, vgg19 } from './vgg.js';
import { type WideResNetArgs, wideResNet } from './wide-resnet.js';

export type { ApplicationArgs, LeNet5Args, MobileNetArgs, MobileNetV1Args, SeBlockArgs, SeResNetArgs, WideResNetArgs };

/**
 * `st.applications.*`: image classification networks, each a function of
 * `{inputShape, includeTop, pooling, classes, classifierActivation, name}` (keras.applications'
 * arguments) returning a new functional model with freshly initialized weights (no pretrained
 * weights are bundled). Where Keras has the model, the layer names, weight shapes and parameter
 * counts are Keras's for the same configuration; the others follow the paper or torchvision, as
 * each function says. `includeTop: false` ends at the last feature map, pooled by `pooling:
 * 'avg' | 'max'`. Input sizes below a model's minimum are a ValueError naming the shape.
 * @example
 * ```ts
 * const net = st.applications.resNet50({ inputShape: [64, 64, 3], classes: 10 });
 * net.compile({ optimizer: 'adam', loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
 * const features = st.applications.mobileNetV2({ includeTop: false, pooling: 'avg' });   // [batch, 1280]
 * ```
 * @namespace
 */
export const applications = {
  /** LeNet-5 (LeCun et al. 1998) as usually rebuilt: 61,706 parameters at 32x32x1 and 10 classes. */
  lenet5,
  /** AlexNet for small images (CIFAR-sized; bearpaw/pytorch-classification): 2,472,266 parameters at 32x32x3 and 10 classes. */
  alexnet,
  /** VGG16 (Keras): 138,357,544 parameters at 224x224x3 and 1000 classes. */
  vgg16,
  /** VGG19 (Keras): 143,667,240 parameters at 224x224x3 and 1000 classes. */
  vgg19,
  /** ResNet18 (torchvision's layout, Keras's names): 11,689,512 trainable parameters at 1000 classes. */
  resNet18,
  /** ResNet34 (torchvision's layout, Keras's names): 21,797,672 trainable parameters at 1000 classes. */
  resNet34,
  /** ResNet50 (Keras): 25,636,712 parameters at 224x224x3 and 1000 classes. */
  resNet50,
  /** ResNet50V2, pre-activation (Keras): 25,613,800 parameters at 224x224x3 and 1000 classes. */
  resNet50V2,
  /** ResNet50 with a squeeze-and-excitation block in every residual branch: 28,167,704 parameters at ratio 16. */
  seResNet50,
  /** InceptionV3 (Keras): 23,851,784 parameters at 299x299x3 and 1000 classes; inputs at least 75x75. */
  inceptionV3,
  /** DenseNet121 (Keras): 8,062,504 parameters at 224x224x3 and 1000 classes. */
  denseNet121,
  /** MobileNet v1 (Keras), width `alpha`: 4,253,864 parameters at 224x224x3, 1000 classes and alpha 1. */
  mobileNet,
  /** MobileNetV2 (Keras), width `alpha`: 3,538,984 parameters at 224x224x3, 1000 classes and alpha 1. */
  mobileNetV2,
  /** Wide ResNet WRN-depth-k for small images (Zagoruyko & Komodakis 2016): WRN-28-10 has 36,479,194 trainable parameters at 10 classes. */
  wideResNet,
  /** A squeeze-and-excitation block on a symbolic NHWC tensor, for any functional model. */
  seBlock,
};
