// Reference for test_face_expression_parity: face-api's own FaceExpressionNet, run by node with the
// pure-JavaScript TensorFlow.js CPU backend bundled in @vladmandic/face-api's dist/face-api.esm.js
// (no native add-on).
//   node face_expression_ref.mjs BUNDLE.mjs MODEL_DIR SPEC.json OUT_DIR
// MODEL_DIR holds face_expression_model-weights_manifest.json and its shards. SPEC.json:
// {"images": [{"rgb": "a.rgb", "width": W, "height": H, "boxes": [[x, y, width, height], ...]}]},
// .rgb files being raw 8-bit RGB rows, and "resize": {"file", "height", "width", "channels",
// "sizes": [[height, width, alignCorners, halfPixelCenters], ...]} for tf.image.resizeBilinear on a
// float32 HWC image. Writes to OUT_DIR: weights.f32 (every weight as tfjs decodes it, manifest
// order), face_<k>.raw.f32 and face_<k>.input.f32 (the 112x112x3 batch tensor before and after
// normalisation), resize_<i>.f32, and results.json with each face's crop size and probabilities.
import fs from 'node:fs';
import path from 'node:path';

const [bundle, modelDir, specPath, outDir] = process.argv.slice(2);

// A float32 tensor's values as bytes. dataSync may return a view into a larger buffer (a slice's
// input), or an Int32Array: the cpu backend's int32 -> float32 cast keeps the integer array.
const bytesOf = (t) => {
  const values = Float32Array.from(t.dataSync());
  return Buffer.from(values.buffer);
};

// tfjs picks its platform when the bundle loads. Its node platform needs node's `util` module, which
// this browser-targeted bundle stubs out; declaring a worker scope makes tfjs take its browser
// platform (global fetch, TextEncoder, performance), all of which node 20 has. face-api's own
// environment check still sees node.
globalThis.WorkerGlobalScope = class {};
const faceapi = await import(path.resolve(bundle));
const { tf } = faceapi;
if (!(await tf.setBackend('cpu'))) throw new Error('the tfjs cpu backend did not start');
await tf.ready();

const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, 'face_expression_model-weights_manifest.json'), 'utf8'));
const weightMap = {};
const weightValues = [];
for (const group of manifest) {
  const shards = group.paths.map((p) => fs.readFileSync(path.join(modelDir, p)));
  const bytes = Buffer.concat(shards);
  const decoded = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), group.weights);
  for (const w of group.weights) {
    weightMap[w.name] = decoded[w.name];
    weightValues.push(bytesOf(decoded[w.name]));
  }
}
fs.writeFileSync(path.join(outDir, 'weights.f32'), Buffer.concat(weightValues));
const net = new faceapi.FaceExpressionNet();
net.loadFromWeightMap(weightMap);

// FaceFeatureExtractor.forwardInput's normalisation, spelled out only to dump the network's input;
// the probabilities below come from face-api's own forward pass.
const meanRgb = [122.782, 117.001, 104.298];

const spec = JSON.parse(fs.readFileSync(specPath, 'utf8'));
const faces = [];
for (const image of spec.images) {
  const rgb = fs.readFileSync(path.join(path.dirname(specPath), image.rgb));
  // int32, as tfjs-node's decodeImage gives it.
  const tensor = tf.tensor3d(Int32Array.from(rgb), [image.height, image.width, 3], 'int32');
  const rects = image.boxes.map(([x, y, width, height]) => new faceapi.Rect(x, y, width, height));
  // What detectAllFaces(tensor).withFaceExpressions() does with each detection: extractFaceTensors,
  // then predictExpressions on each crop.
  const crops = await faceapi.extractFaceTensors(tensor, rects);
  if (crops.length !== rects.length) throw new Error(`a box of ${image.rgb} gave no crop`);
  for (let i = 0; i < crops.length; ++i) {
    const k = faces.length;
    const netInput = await faceapi.toNetInput(crops[i]);
    const raw = netInput.toBatchTensor(112, true);
    const input = tf.div(faceapi.normalize(raw, meanRgb), 255);
    fs.writeFileSync(path.join(outDir, `face_${k}.raw.f32`), bytesOf(raw));
    fs.writeFileSync(path.join(outDir, `face_${k}.input.f32`), bytesOf(input));
    const expressions = await net.predictExpressions(crops[i]);
    faces.push({
      image: image.rgb,
      box: image.boxes[i],
      crop: [crops[i].shape[1], crops[i].shape[0]],
      probs: faceapi.FACE_EXPRESSION_LABELS.map((label) => expressions[label]),
    });
    tf.dispose([raw, input, crops[i]]);
  }
  tensor.dispose();
}
const { resize } = spec;
const resizeInput = fs.readFileSync(path.join(path.dirname(specPath), resize.file));
// A copy: a small file's Buffer may sit at an offset a Float32Array view cannot start at.
const resizeImage = tf.tensor3d(new Float32Array(new Uint8Array(resizeInput).buffer), [resize.height, resize.width, resize.channels]);
resize.sizes.forEach(([height, width, alignCorners, halfPixelCenters], i) => {
  const out = tf.image.resizeBilinear(resizeImage, [height, width], alignCorners, halfPixelCenters);
  fs.writeFileSync(path.join(outDir, `resize_${i}.f32`), bytesOf(out));
});

fs.writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({
  face_api: faceapi.version,
  tfjs: tf.version_core,
  backend: tf.getBackend(),
  labels: faceapi.FACE_EXPRESSION_LABELS,
  faces,
}));
