// An independent verifier of the transcript's credential: Digital Bazaar's vc, data-integrity,
// eddsa-jcs-2022 and bitstring status list, with an offline document loader.
//
//   node verify.mjs CREDENTIAL.json --did DID.json [--status STATUS.json ...]
//
// The loader answers the bundled JSON-LD contexts (credentials/contexts, the project's copies),
// the did:web document and its keys from DID.json, and each status list credential by its id.
// Anything else is an error: nothing is fetched. Prints {verified, error?, statusResult?}.
import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

const here = dirname(fileURLToPath(import.meta.url));
const contexts = join(here, '..', '..', 'credentials', 'contexts');
const CONTEXTS = {
  'https://www.w3.org/ns/credentials/v2': 'credentials-v2.json',
  'https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json': 'ob-v3p0-3.0.3.json',
  'https://www.w3.org/ns/did/v1': 'did-v1.json',
  'https://w3id.org/security/multikey/v1': 'multikey-v1.json',
};

const args = process.argv.slice(2);
const file = args[0];
const readJson = path => JSON.parse(readFileSync(path, 'utf8'));
let didDoc = null;
const statusLists = {};
for(let i = 1; i < args.length; i += 2) {
  if(args[i] === '--did') {
    didDoc = readJson(args[i + 1]);
  } else if(args[i] === '--status') {
    const list = readJson(args[i + 1]);
    statusLists[list.id] = list;
  } else {
    throw new Error(`unknown argument ${args[i]}`);
  }
}

async function documentLoader(url) {
  if(CONTEXTS[url]) {
    return {contextUrl: null, documentUrl: url,
      document: readJson(join(contexts, CONTEXTS[url]))};
  }
  if(didDoc && url.startsWith('did:')) {
    const [did, fragment] = url.split('#');
    if(did === didDoc.id) {
      if(!fragment) {
        return {contextUrl: null, documentUrl: url, document: didDoc};
      }
      const method = didDoc.verificationMethod.find(m => m.id === url);
      if(method) {
        return {contextUrl: null, documentUrl: url,
          document: {'@context': didDoc['@context'], ...method}};
      }
    }
  }
  if(statusLists[url]) {
    return {contextUrl: null, documentUrl: url, document: statusLists[url]};
  }
  throw new Error(`offline: no document for ${url}`);
}

const suite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});
const credential = readJson(file);
const hasStatus = Object.keys(statusLists).length > 0;
const result = await vc.verifyCredential({
  credential, suite, documentLoader,
  ...(hasStatus ? {checkStatus} : {checkStatus: async () => ({verified: true, notChecked: true})}),
});
const out = {verified: result.verified};
if(!result.verified) {
  const errors = [result.error, ...(result.results || []).map(r => r.error)].filter(Boolean);
  out.error = errors.map(e => (e.errors || [e]).map(x => x.message).join('; ')).join('; ');
}
if(result.statusResult) {
  out.statusResult = {verified: result.statusResult.verified,
    ...(result.statusResult.results ? {results: result.statusResult.results.map(
      r => ({verified: r.verified, status: r.status, purpose: r.credentialStatus?.statusPurpose,
        error: r.error?.message}))} : {}),
    ...(result.statusResult.error ? {error: String(result.statusResult.error.message)} : {})};
}
console.log(JSON.stringify(out));
