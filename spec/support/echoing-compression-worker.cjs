// A stand-in compression worker for the pool's fault specs: answers each job with its own bytes
// (no codec), and dies, uncaught, on a job whose first byte is 0xff.
const { parentPort } = require('node:worker_threads');

parentPort.on('message', (job) => {
  if (job.prepared[0] === 0xff) throw new Error('the worker dies on this job');
  const batch = Uint8Array.prototype.slice.call(job.prepared);
  parentPort.postMessage({ id: job.id, batch, spent: job.prepared.buffer }, [job.prepared.buffer]);
});
