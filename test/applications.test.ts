// st.applications: parameter counts against Keras (keras.applications at the standard
// configuration) or, for models Keras lacks, torchvision and the papers' code
// (scripts/application_reference_counts.py prints those); Keras's layer names and weight shapes;
// the input and pooling options; training steps on small inputs; a save/load round trip.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as st from '../src/index.js';
import { type Blob, blob, loadFixture } from './fixture-harness.js';
import { assertClose, assertCloseAsync, withBackendAsync } from './helpers.js';

// Backends that open asynchronously (webgpu, where there is an adapter) are opened first, and the
// per-backend cases read with `await t.data()`, which every backend has.
await st.ready();

const apps = st.applications;
/** What the training checks use: 3 classes, 32x32 colour images (Keras's smallest for most models). */
const small = { classes: 3, inputShape: [32, 32, 3] };
/** STRATA_SLOW_TESTS=1 runs every model on every backend (see the training checks below). */
const everyModelEverywhere = process.env.STRATA_SLOW_TESTS === '1';
const trainableCount = (m: st.Model) => m.trainableWeights.reduce((n, w) => n + w.value.size, 0);
const weightShape = (m: st.Model, path: string) => {
  const w = m.weights.find((v) => v.path === path);
  assert.ok(w, `no weight ${path}`);
  return [...w.value.shape];
};

interface CountCase {
  build: () => st.Model;
  total: number;
  trainable: number;
  /** Keras's len(model.layers), input layer included, where checked. */
  layers?: number;
  /** Weights (path → shape in Keras layout) and layer names to look for. */
  shapes: Record<string, number[]>;
  source: string;
}

// Standard configurations: 224x224x3 and 1000 classes (InceptionV3 299x299x3); the small-image
// models at their own standard inputs with 10 classes.
const COUNTS: Record<string, CountCase> = {
  vgg16: {
    build: () => apps.vgg16(),
    total: 138_357_544,
    trainable: 138_357_544,
    layers: 23,
    source: 'Keras VGG16 (torchvision vgg16 agrees)',
    shapes: {
      'block1_conv1/kernel': [3, 3, 3, 64],
      'block5_conv3/bias': [512],
      'fc1/kernel': [25088, 4096],
      'fc2/kernel': [4096, 4096],
      'predictions/kernel': [4096, 1000],
    },
  },
  vgg19: {
    build: () => apps.vgg19(),
    total: 143_667_240,
    trainable: 143_667_240,
    layers: 26,
    source: 'Keras VGG19 (torchvision vgg19 agrees)',
    shapes: { 'block3_conv4/kernel': [3, 3, 256, 256], 'block5_conv4/kernel': [3, 3, 512, 512], 'fc1/kernel': [25088, 4096] },
  },
  resNet50: {
    build: () => apps.resNet50(),
    total: 25_636_712,
    trainable: 25_583_592,
    layers: 177,
    source: 'Keras ResNet50',
    shapes: {
      'conv1_conv/kernel': [7, 7, 3, 64],
      'conv1_conv/bias': [64],
      'conv1_bn/moving_variance': [64],
      'conv2_block1_0_conv/kernel': [1, 1, 64, 256],
      'conv3_block1_1_conv/kernel': [1, 1, 256, 128],
      'conv5_block3_3_conv/kernel': [1, 1, 512, 2048],
      'predictions/kernel': [2048, 1000],
    },
  },
  resNet50V2: {
    build: () => apps.resNet50V2(),
    total: 25_613_800,
    trainable: 25_568_360,
    layers: 192,
    source: 'Keras ResNet50V2',
    shapes: {
      'conv2_block1_preact_bn/gamma': [64],
      'conv2_block3_2_conv/kernel': [3, 3, 64, 64],
      'post_bn/beta': [2048],
      'predictions/bias': [1000],
    },
  },
  inceptionV3: {
    build: () => apps.inceptionV3(),
    total: 23_851_784,
    trainable: 23_817_352,
    layers: 313,
    source: 'Keras InceptionV3',
    shapes: { 'predictions/kernel': [2048, 1000] },
  },
  denseNet121: {
    build: () => apps.denseNet121(),
    total: 8_062_504,
    trainable: 7_978_856,
    layers: 429,
    source: 'Keras DenseNet121 (trainable: torchvision densenet121)',
    shapes: {
      'conv1_conv/kernel': [7, 7, 3, 64],
      'conv2_block1_1_conv/kernel': [1, 1, 64, 128],
      'pool2_conv/kernel': [1, 1, 256, 128],
      'conv5_block16_2_conv/kernel': [3, 3, 128, 32],
      'bn/gamma': [1024],
    },
  },
  mobileNet: {
    build: () => apps.mobileNet(),
    total: 4_253_864,
    trainable: 4_231_976,
    layers: 91,
    source: 'Keras MobileNet (alpha 1)',
    shapes: {
      'conv1/kernel': [3, 3, 3, 32],
      'conv_dw_1/kernel': [3, 3, 32, 1],
      'conv_pw_13/kernel': [1, 1, 1024, 1024],
      'conv_preds/kernel': [1, 1, 1024, 1000],
      'conv_preds/bias': [1000],
    },
  },
  mobileNetV2: {
    build: () => apps.mobileNetV2(),
    total: 3_538_984,
    trainable: 3_504_872,
    layers: 156,
    source: 'Keras MobileNetV2 (trainable: torchvision mobilenet_v2)',
    shapes: {
      'Conv1/kernel': [3, 3, 3, 32],
      'expanded_conv_depthwise/kernel': [3, 3, 32, 1],
      'block_16_project/kernel': [1, 1, 960, 320],
      'Conv_1/kernel': [1, 1, 320, 1280],
      'predictions/kernel': [1280, 1000],
    },
  },
  // torchvision's resnet18/34 parameters; our non-trainable weights are its BN running statistics.
  resNet18: {
    build: () => apps.resNet18(),
    total: 11_689_512 + 9_600,
    trainable: 11_689_512,
    source: 'torchvision resnet18',
    shapes: {
      'conv1_conv/kernel': [7, 7, 3, 64],
      'conv3_block1_0_conv/kernel': [1, 1, 64, 128],
      'conv3_block1_1_conv/kernel': [3, 3, 64, 128],
      'conv5_block2_2_conv/kernel': [3, 3, 512, 512],
    },
  },
  resNet34: {
    build: () => apps.resNet34(),
    total: 21_797_672 + 17_024,
    trainable: 21_797_672,
    source: 'torchvision resnet34',
    shapes: { 'conv4_block6_2_conv/kernel': [3, 3, 256, 256], 'predictions/kernel': [512, 1000] },
  },
  // Keras's ResNet50 plus the SE paper's (2/r)·Σ N_s·C_s² weights (stages of N = 3, 4, 6, 3 blocks
  // of C = 256 ... 2048 channels, r = 16) and the two 1x1 convolutions' biases, C/r + C per block.
  seResNet50: {
    build: () => apps.seResNet50(),
    total:
      25_636_712 +
      [
        [3, 256],
        [4, 512],
        [6, 1024],
        [3, 2048],
      ].reduce((n, [blocks, c]) => n + blocks * ((2 * c * c) / 16 + c / 16 + c), 0),
    trainable: 25_583_592 + 2_514_944 + 16_048,
    source: 'Keras ResNet50 + the SE formula',
    shapes: { 'conv2_block1_se_reduce/kernel': [256, 16], 'conv5_block3_se_expand/kernel': [128, 2048] },
  },
  wideResNet: {
    build: () => apps.wideResNet(),
    total: 36_479_194 + 17_952,
    trainable: 36_479_194,
    source: 'WRN-28-10 in PyTorch (the paper: 36.5M)',
    shapes: {
      'conv1_conv/kernel': [3, 3, 3, 16],
      'conv2_block1_0_conv/kernel': [1, 1, 16, 160],
      'conv4_block4_2_conv/kernel': [3, 3, 640, 640],
      'predictions/kernel': [640, 10],
    },
  },
  lenet5: {
    build: () => apps.lenet5(),
    total: 61_706,
    trainable: 61_706,
    layers: 9,
    source: 'LeNet-5 at 32x32x1 in PyTorch',
    shapes: {
      'c1/kernel': [5, 5, 1, 6],
      'c3/kernel': [5, 5, 6, 16],
      'c5/kernel': [400, 120],
      'f6/kernel': [120, 84],
      'predictions/kernel': [84, 10],
    },
  },
  alexnet: {
    build: () => apps.alexnet(),
    total: 2_472_266,
    trainable: 2_472_266,
    layers: 12,
    source: 'bearpaw CIFAR AlexNet in PyTorch',
    shapes: { 'conv1/kernel': [11, 11, 3, 64], 'conv2/kernel': [5, 5, 64, 192], 'conv5/kernel': [3, 3, 256, 256], 'predictions/kernel': [256, 10] },
  },
};

describe('applications: parameter counts and Keras structure', () => {
  for (const [name, c] of Object.entries(COUNTS)) {
    it(`${name}: ${c.total.toLocaleString('en')} parameters (${c.source})`, () => {
      const m = c.build();
      assert.equal(m.countParams(), c.total, 'total');
      assert.equal(trainableCount(m), c.trainable, 'trainable');
      if (c.layers !== undefined) assert.equal(m.layers.length, c.layers, 'layers');
      for (const [path, shape] of Object.entries(c.shapes)) assert.deepEqual(weightShape(m, path), shape, path);
    });
  }

  it('without the top: Keras counts, feature shapes, pooling and names', () => {
    const models = {
      vgg16: [apps.vgg16({ includeTop: false, name: 'features' }), 14_714_688, [null, null, null, 512], 19],
      resNet50: [apps.resNet50({ includeTop: false, pooling: 'avg' }), 23_587_712, [null, 2048], 176],
      resNet50V2: [apps.resNet50V2({ includeTop: false, pooling: 'max' }), 23_564_800, [null, 2048], 191],
      inceptionV3: [apps.inceptionV3({ includeTop: false }), 21_802_784, [null, null, null, 2048], 311],
      denseNet121: [apps.denseNet121({ includeTop: false, pooling: 'max' }), 7_037_504, [null, 1024], 428],
      mobileNet: [apps.mobileNet({ includeTop: false, pooling: 'max', inputShape: [128, 128, 3] }), 3_228_864, [null, 1024], 87],
      mobileNetV2: [apps.mobileNetV2({ includeTop: false, pooling: 'avg' }), 2_257_984, [null, 1280], 155],
      resNet18: [apps.resNet18({ includeTop: false, inputShape: [64, 64, 3] }), 11_689_512 - 513_000 + 9_600, [null, 2, 2, 512], undefined],
    } satisfies Record<string, [st.Model, number, (number | null)[], number | undefined]>;
    for (const [m, params, shape, layerCount] of Object.values(models)) {
      assert.equal(m.countParams(), params, m.name);
      assert.deepEqual([...m.outputs[0].shape], shape, m.name);
      if (layerCount !== undefined) assert.equal(m.layers.length, layerCount, m.name);
    }
    const name = (m: st.Model) => m.layers.at(-1)!.name;
    // With the top, Keras names the pooling before the classifier in some models only.
    assert.equal(apps.resNet18(small).layers.at(-2)!.name, 'avg_pool');
    assert.match(apps.mobileNetV2({ ...small, alpha: 0.35 }).layers.at(-2)!.name, /^global_average_pooling2d(_\d+)?$/);
    assert.equal(name(models.resNet50[0]), 'avg_pool');
    assert.equal(name(models.denseNet121[0]), 'max_pool');
    const resnet = models.resNet50[0];
    for (const n of ['conv1_pad', 'conv1_relu', 'pool1_pad', 'pool1_pool', 'conv2_block1_add', 'conv5_block3_out']) resnet.getLayer(n);
    const inception = models.inceptionV3[0];
    for (const n of ['mixed0', 'mixed3', 'mixed8', 'mixed9_0', 'mixed9_1', 'mixed10']) inception.getLayer(n);
    assert.deepEqual(
      inception.layers[1].getWeights().map((w) => [...w.shape]),
      [[3, 3, 3, 32]],
      'first convolution: no bias',
    );
    assert.deepEqual(
      inception.layers[2].weights.map((w) => w.name),
      ['beta', 'moving_mean', 'moving_variance'],
      'BN without gamma',
    );
    assert.deepEqual(
      Object.values(models).map(([m]) => m.name),
      ['features', 'resnet50', 'resnet50v2', 'inception_v3', 'densenet121', 'mobilenet_1.00_128', 'mobilenetv2_1.00_None', 'resnet18'],
    );
  });

  it('width and depth options: MobileNet alpha, WRN-16-4', () => {
    // torchvision's mobilenet_v2(width_mult=0.35) rounds widths as Keras does: 1,677,128 parameters
    // and 14,080 BN statistics. MobileNet(alpha=0.25): Keras's 475,544 (the paper's 0.47M).
    const v2 = apps.mobileNetV2({ alpha: 0.35 });
    assert.equal(trainableCount(v2), 1_677_128);
    assert.equal(v2.countParams(), 1_677_128 + 14_080);
    assert.equal(apps.mobileNet({ alpha: 0.25 }).countParams(), 475_544);
    const wrn = apps.wideResNet({ depth: 16, widthFactor: 4 });
    assert.equal(wrn.name, 'wide_resnet16_4');
    assert.equal(trainableCount(wrn), 2_748_890, 'WRN-16-4 in PyTorch');
    assert.equal(wrn.countParams() - trainableCount(wrn), 3_616);
  });
});

interface TorchCase {
  name: 'resNet18' | 'wideResNet' | 'alexnet' | 'lenet5';
  options: Record<string, unknown>;
  inputShape: number[];
  tensors: { path: string; shape: number[]; kind: 'kernel' | 'bias' | 'gamma' | 'beta' | 'mean' | 'variance' }[];
  output: Blob;
}

/** Tensor t of scripts/make_application_fixtures.py, in PyTorch's layout: sin(0.37 k + 1.1 t + 0.5), scaled by kind. */
function formulaTensor(t: number, shape: number[], kind: TorchCase['tensors'][number]['kind']): st.Tensor {
  const n = shape.reduce((a, b) => a * b, 1),
    fanIn = shape.length > 1 ? n / shape[0] : 1;
  const scale = {
    kernel: (s: number) => s * Math.sqrt(3 / fanIn),
    bias: (s: number) => 0.1 * s,
    gamma: (s: number) => 1 + 0.2 * s,
    beta: (s: number) => 0.1 * s,
    mean: (s: number) => 0.1 * s,
    variance: (s: number) => 1 + 0.25 * (s + 1),
  }[kind];
  const data = Float32Array.from({ length: n }, (_, k) => scale(Math.sin(0.37 * k + 1.1 * t + 0.5)));
  const torchLayout = st.tensor(data, shape);
  // Convolutions [out, in, kh, kw] and dense layers [out, in] in Keras's layouts.
  return shape.length === 4 ? st.transpose(torchLayout, [2, 3, 1, 0]) : shape.length === 2 ? st.transpose(torchLayout, [1, 0]) : torchLayout;
}

describe('applications: the same outputs as PyTorch with the same weights', () => {
  // torchvision's resnet18, and the definitions of scripts/application_reference_counts.py: the
  // paddings, strides, shortcuts and BN epsilons line up exactly (inference mode).
  const fixtures = loadFixture<TorchCase>('applications.json');
  for (const backend of st
    .backends()
    .filter((b) => b.available)
    .map((b) => b.name)) {
    for (const c of fixtures.cases) {
      // On SwiftShader (webgpu in Node) ResNet18 takes about 3 s; its convolutions, BN, residual
      // adds and pooling are compared with PyTorch there in wideResNet and alexnet.
      const skip =
        backend === 'webgpu' &&
        c.name === 'resNet18' &&
        !everyModelEverywhere &&
        'slow on SwiftShader (webgpu in Node); its layer kinds are compared on webgpu in wideResNet and alexnet';
      it(`${backend}: ${c.name}`, { skip }, () =>
        withBackendAsync(backend, async () => {
          const model = (apps[c.name] as (a: Record<string, unknown>) => st.Model)({
            ...c.options,
            inputShape: c.inputShape.slice(1),
            classifierActivation: null,
          });
          const byPath = new Map(c.tensors.map((t, i) => [t.path, formulaTensor(i, t.shape, t.kind)]));
          // PyTorch flattens LeNet's 16x5x5 maps channels first; Flatten here keeps NHWC order.
          const c5 = byPath.get('c5/kernel');
          if (c5) byPath.set('c5/kernel', c5.reshape([16, 5, 5, 120]).transpose([1, 2, 0, 3]).reshape([400, 120]));
          assert.deepEqual(model.weights.map((w) => w.path).sort(), [...byPath.keys()].sort(), 'one PyTorch tensor per weight');
          model.setWeights(model.weights.map((w) => byPath.get(w.path)!));
          const n = c.inputShape.reduce((a, b) => a * b, 1);
          const x = st.tensor(
            Float32Array.from({ length: n }, (_, k) => 0.5 + 0.5 * Math.sin(0.11 * k + 0.3)),
            c.inputShape,
          );
          await assertCloseAsync(model.predict(x) as st.Tensor, blob(c.output, 'float32'), 2e-4, 2e-4, c.name);
        }),
      );
    }
  }
});

describe('applications: options', () => {
  it('input sizes below the minimum, unknown sizes with the top and bad options are ValueErrors naming what was received', () => {
    assert.throws(() => apps.resNet50({ inputShape: [16, 16, 3] }), /resNet50: input size must be at least 32x32; received inputShape \(16, 16, 3\)/);
    assert.throws(
      () => apps.inceptionV3({ inputShape: [74, 299, 3] }),
      /inceptionV3: input size must be at least 75x75; received inputShape \(74, 299, 3\)/,
    );
    assert.throws(
      () => apps.vgg16({ inputShape: [null, null, 3] }),
      /with includeTop the input size must be known.*received inputShape \(None, None, 3\)/,
    );
    assert.throws(
      () => apps.mobileNet({ inputShape: [224, 224] as never }),
      /inputShape must be \[height, width, channels\].*received inputShape \(224, 224\)/,
    );
    assert.throws(() => apps.denseNet121({ pooling: 'mean' as never }), /pooling must be 'avg', 'max' or null; received "mean"/);
    assert.throws(() => apps.vgg19({ classes: 0 }), /classes must be a positive integer; received 0/);
    assert.throws(() => apps.resNet18({ weights: 'imagenet' } as never), /unknown option 'weights'/);
    assert.throws(() => apps.wideResNet({ depth: 27 }), /depth must be 6n \+ 4/);
    assert.throws(() => apps.lenet5({ inputShape: [12, 12, 1] }), /at least 16x16/);
  });

  it('inputs of other sizes and channels, the classifier activation', () => {
    const gray = apps.resNet50({ inputShape: [40, 48, 1], classes: 5, classifierActivation: null });
    assert.deepEqual(weightShape(gray, 'conv1_conv/kernel'), [7, 7, 1, 64]);
    assert.deepEqual([...gray.outputs[0].shape], [null, 5]);
    assert.equal((gray.getLayer('predictions') as st.Dense).activation.name, 'linear');
    const y = gray.predict(st.randomUniform([2, 40, 48, 1])) as st.Tensor;
    assert.notEqual(Math.abs(y.sum().item() - 2), 0, 'logits, not probabilities');
    const mnist = apps.lenet5({ inputShape: [28, 28, 1] });
    assert.deepEqual(weightShape(mnist, 'c5/kernel'), [256, 120]);
  });

  it('seBlock: same shape, 2C²/r + C/r + C parameters, named layers', () => {
    const x = st.input({ shape: [8, 8, 64] });
    const y = apps.seBlock(x, { ratio: 16, name: 'stage1' });
    assert.deepEqual([...y.shape], [null, 8, 8, 64]);
    const m = st.model({ inputs: x, outputs: y });
    assert.equal(m.countParams(), (2 * 64 * 64) / 16 + 64 / 16 + 64);
    assert.deepEqual(
      m.layers.slice(1).map((l) => l.name),
      ['stage1_se_squeeze', 'stage1_se_reduce', 'stage1_se_expand', 'stage1_se_reshape', 'stage1_se_excite'],
    );
    const out = m.predict(st.ones([1, 8, 8, 64])) as st.Tensor;
    const values = Array.from(out.dataSync());
    assert.ok(
      values.every((v) => v > 0 && v < 1),
      'a constant map is scaled by sigmoid gates',
    );
    assert.throws(
      () => apps.seBlock(st.input({ shape: [8, 64] })),
      /seBlock: expects a symbolic \[batch, height, width, channels\] tensor.*received shape \(None, 8, 64\)/,
    );
    assert.throws(() => apps.seBlock(x, { ratio: 0 }), /ratio must be a positive number; received 0/);
  });
});

// Note [Training checks at small batches]
// Batch normalization over a handful of values (the deepest maps of a 32x32 input are 1x1, so
// batch 2 gives 2 values per channel) makes the training-mode loss extremely sharp: a channel
// whose few values nearly agree is divided by about sqrt(epsilon), and gradients reach 1e4-1e5.
// PyTorch behaves the same (torchvision's resnet18 at 32x32, batch 2: conv1's gradient norm
// 1.6e4, and SGD at lr 1e-5 raises the loss; resnet50 does so at batch 8 too). So each model
// first takes one real training step (batch statistics, moving averages, dropout), checked for
// a finite loss and a moved moving mean; then, with its BN layers frozen as in Keras fine-tuning
// (moving statistics, a smooth loss), one SGD step (learning rate 1e-3, the gradient clipped to
// norm 1) must lower the loss on that batch: the gradients of the whole network point downhill.
// A model without BN needs only its first step.

/** The two steps of Note [Training checks at small batches] on `batch` images of `model`'s input size. */
async function trainsOnSmallBatch(model: st.Model, batch: number): Promise<void> {
  const [, h, w, c] = model.inputs[0].shape as number[];
  // Images that differ in brightness per sample and channel, and one label per class.
  const x = st
    .randomUniform([batch, h, w, c], { seed: 1 })
    .mul(0.5)
    .add(st.randomNormal([batch, 1, 1, c], { seed: 2 }));
  const classes = model.outputs[0].shape[1] as number;
  const y = st.tensor(
    Array.from({ length: batch }, (_, i) => i % classes),
    [batch],
    'int32',
  );
  model.compile({ optimizer: st.optimizers.sgd({ learningRate: 1e-3, globalClipNorm: 1 }), loss: 'sparseCategoricalCrossentropy' });
  const norms = model.layers.filter((l): l is st.BatchNormalization => l instanceof st.BatchNormalization);
  const movingMean = async () => Array.from(await norms[0].weights[2].value.data());
  const meanBefore = norms.length ? await movingMean() : [];
  let start = (await model.trainOnBatch(x, y)).loss as number;
  assert.ok(Number.isFinite(start), `${model.name}: training-mode loss ${start}`);
  if (norms.length) {
    assert.notDeepEqual(await movingMean(), meanBefore, `${model.name}: the moving mean did not move`);
    for (const layer of norms) layer.trainable = false;
    start = (await model.trainOnBatch(x, y)).loss as number;
  }
  // Without BN the first step is already on a smooth loss.
  const afterLoss = st.noGrad(() => st.losses.sparseCategoricalCrossentropy(y, model.apply(x, { training: true }) as st.Tensor));
  const [after] = await afterLoss.data();
  assert.ok(after < start, `${model.name}: one SGD step did not lower the loss (${start} to ${after})`);
}

/**
 * Every application at a small size (MobileNets and the WRN with their width options, which change
 * no code path), and whether it also trains on the reference backend by default: the cheap ones,
 * and DenseNet121 and InceptionV3 for the layers only they use (concatenated branches, 'same'
 * average pooling, BN without gamma, 1x7 kernels).
 */
const TRAINING: [string, () => st.Model, boolean][] = [
  ['lenet5', () => apps.lenet5({ classes: 3 }), true],
  ['alexnet', () => apps.alexnet({ classes: 3 }), true],
  ['resNet18', () => apps.resNet18(small), true],
  ['mobileNet (alpha 0.25)', () => apps.mobileNet({ ...small, alpha: 0.25 }), true],
  ['mobileNetV2 (alpha 0.35)', () => apps.mobileNetV2({ ...small, alpha: 0.35 }), true],
  ['wideResNet (WRN-10-1)', () => apps.wideResNet({ classes: 3, depth: 10, widthFactor: 1, dropout: 0.3 }), true],
  ['vgg16', () => apps.vgg16(small), false],
  ['vgg19', () => apps.vgg19(small), false],
  ['resNet34', () => apps.resNet34(small), false],
  ['resNet50', () => apps.resNet50(small), false],
  ['resNet50V2', () => apps.resNet50V2(small), false],
  ['seResNet50', () => apps.seResNet50(small), false],
  ['inceptionV3', () => apps.inceptionV3({ classes: 3, inputShape: [75, 75, 3] }), true],
  ['denseNet121', () => apps.denseNet121(small), true],
];

// VGG16/19, ResNet34/50/50V2 and SE-ResNet50 add no layer of their own on the reference backend,
// where they take about 50 s together on a 2-core machine; STRATA_SLOW_TESTS=1 runs them there too.
// On wasm VGG16/19 and ResNet34/50/50V2 add no kernel the others do not run (convolutions, pooling,
// batch norms, adds at other sizes) and took 10 s; SE-ResNet50 stays for its squeeze-excitation.
const NOT_ON_WASM = new Set(['vgg16', 'vgg19', 'resNet34', 'resNet50', 'resNet50V2']);
// webgpu in Node runs on SwiftShader, a software GPU of about 1 GFLOP/s. There LeNet-5 (5x5
// convolutions, average pooling, dense layers), AlexNet (max pooling, dropout), MobileNet (strided,
// depthwise and pointwise convolutions, BN, ReLU6) and WRN-10-1 (residual adds, BN) cover the
// layer kinds in 1-2.5 s each; the others repeat those kinds at more FLOPs (ResNet18 took 6-9 s).
// webgpu-training.test.ts trains to accuracy there.
const ON_WEBGPU = new Set(['lenet5', 'alexnet', 'mobileNet (alpha 0.25)', 'wideResNet (WRN-10-1)']);
const WEBGPU_SKIP = 'slow on SwiftShader (webgpu in Node); its layer kinds train on webgpu in lenet5, alexnet, mobileNet and WRN-10-1';

describe('applications: training steps on small inputs', () => {
  const available = st
    .backends()
    .filter((b) => b.available)
    .map((b) => b.name);
  for (const backend of available) {
    for (const [name, build, onReference] of TRAINING) {
      if (!everyModelEverywhere && ((backend === 'reference' && !onReference) || (backend === 'wasm' && NOT_ON_WASM.has(name)))) continue;
      const skip = backend === 'webgpu' && !everyModelEverywhere && !ON_WEBGPU.has(name) && WEBGPU_SKIP;
      it(`${backend}: ${name}`, { skip }, () =>
        withBackendAsync(backend, async () => {
          st.setSeed(0);
          await trainsOnSmallBatch(build(), 2);
        }),
      );
    }
  }
});

describe('applications: save and load', () => {
  it('MobileNet and an SE model round trip through model.save and st.loadModel', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'strata-applications-'));
    try {
      const x = st.randomUniform([2, 32, 32, 3], { seed: 3 });
      const mobile = apps.mobileNet({ ...small, alpha: 0.25 });
      const input = st.input({ shape: [16, 16, 8] });
      const se = st.model({ inputs: input, outputs: st.layers.flatten().apply(apps.seBlock(input, { ratio: 4, name: 'se' })) });
      for (const [m, xs] of [
        [mobile, x],
        [se, st.randomUniform([2, 16, 16, 8], { seed: 4 })],
      ] as const) {
        await m.save(join(dir, m.name));
        const again = await st.loadModel(join(dir, m.name));
        assert.deepEqual(
          again.layers.map((l) => [l.className, l.name]),
          m.layers.map((l) => [l.className, l.name]),
        );
        assertClose(again.predict(xs) as st.Tensor, m.predict(xs) as st.Tensor, 1e-6, 1e-7, m.name);
      }
      assert.ok(mobile.layers.some((l) => l.className === 'ReLU' && (l as st.ReLU).maxValue === 6));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
