// jsforce, unmodified, against the emulator. When jsforce and the emulator
// disagree, the emulator is wrong.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import jsforce from 'jsforce';
import { startPlayground, playBrowser } from './playground.js';

const REDIRECT = 'http://localhost:1717/OauthRedirect';
let org;
let conn;

function oauth2() {
  return new jsforce.OAuth2({ loginUrl: org.baseUrl, clientId: 'jsforce-conformance', redirectUri: REDIRECT, useVerifier: true });
}

before(async () => {
  org = await startPlayground();
  await org.control('/seed', {
    fields: { Account: [{ name: 'ERP_Id__c', type: 'string', length: 40, externalId: true, unique: true }] },
  });
});

after(() => org?.stop());

test('authorization code with PKCE: the user logs in, allows, and jsforce swaps the code', async () => {
  const oauth = oauth2();
  const url = oauth.getAuthorizationUrl({ state: 'state-123', scope: 'api refresh_token' });
  assert.match(url, /code_challenge=/);
  const redirect = await playBrowser(url);
  assert.equal(`${redirect.origin}${redirect.pathname}`, REDIRECT);
  assert.equal(redirect.searchParams.get('state'), 'state-123');
  conn = new jsforce.Connection({ oauth2: oauth, version: '59.0' });
  const info = await conn.authorize(redirect.searchParams.get('code'));
  assert.equal(conn.instanceUrl, org.baseUrl);
  assert.ok(conn.accessToken.startsWith('00D'));
  assert.ok(conn.refreshToken, 'a refresh token is issued');
  assert.match(info.id, /^005/);
  assert.match(info.organizationId, /^00D/);
  const identity = await conn.identity();
  assert.equal(identity.username, 'admin@playground.syncstudio');
});

test('denying consent redirects with access_denied and the same state', async () => {
  const redirect = await playBrowser(oauth2().getAuthorizationUrl({ state: 'deny-me' }), 'deny');
  assert.equal(redirect.searchParams.get('error'), 'access_denied');
  assert.equal(redirect.searchParams.get('state'), 'deny-me');
  assert.equal(redirect.searchParams.get('code'), null);
});

test('a code can be used once, and a wrong verifier is refused', async () => {
  const oauth = oauth2();
  const redirect = await playBrowser(oauth.getAuthorizationUrl({ state: 's' }));
  const code = redirect.searchParams.get('code');
  const realVerifier = oauth.codeVerifier;
  oauth.codeVerifier = 'not-the-verifier-' + 'x'.repeat(40);
  await assert.rejects(oauth.requestToken(code), /invalid code verifier/);
  oauth.codeVerifier = realVerifier;
  await assert.rejects(oauth.requestToken(code), /invalid_grant|invalid authorization code/);
});

test('describe global and describe Account', async () => {
  const global = await conn.describeGlobal();
  const names = global.sobjects.map((s) => s.name);
  for (const n of ['Account', 'Contact', 'Lead', 'Opportunity', 'Case', 'Task', 'Campaign', 'Product2', 'Pricebook2', 'PricebookEntry', 'User', 'ContentVersion']) {
    assert.ok(names.includes(n), `${n} in describeGlobal`);
  }
  const account = await conn.sobject('Account').describe();
  const byName = Object.fromEntries(account.fields.map((f) => [f.name, f]));
  assert.equal(byName.Name.type, 'string');
  assert.equal(byName.Name.nillable, false);
  assert.equal(byName.ERP_Id__c.externalId, true);
  assert.deepEqual(byName.ParentId.referenceTo, ['Account']);
  assert.ok(byName.Industry.picklistValues.some((p) => p.value === 'Technology'));
  assert.ok(account.childRelationships.some((r) => r.childSObject === 'Contact' && r.relationshipName === 'Contacts'));
});

test('create, retrieve, update, delete', async () => {
  const created = await conn.sobject('Account').create({ Name: 'jsforce Conformance Inc', Industry: 'Technology', NumberOfEmployees: 42 });
  assert.equal(created.success, true);
  assert.match(created.id, /^001[A-Za-z0-9]{15}$/);
  const got = await conn.sobject('Account').retrieve(created.id);
  assert.equal(got.Name, 'jsforce Conformance Inc');
  assert.equal(got.NumberOfEmployees, 42);
  assert.match(got.CreatedDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
  const upd = await conn.sobject('Account').update({ Id: created.id, Name: 'Renamed Inc' });
  assert.equal(upd.success, true);
  assert.equal((await conn.sobject('Account').retrieve(created.id)).Name, 'Renamed Inc');
  const del = await conn.sobject('Account').destroy(created.id);
  assert.equal(del.success, true);
  await assert.rejects(conn.sobject('Account').retrieve(created.id), (e) => e.errorCode === 'ENTITY_IS_DELETED');
});

test('upsert by external id creates, then updates', async () => {
  const first = await conn.sobject('Account').upsert({ ERP_Id__c: 'ERP-1', Name: 'Upserted Ltd' }, 'ERP_Id__c');
  assert.equal(first.success, true);
  assert.equal(first.created, true);
  const second = await conn.sobject('Account').upsert({ ERP_Id__c: 'ERP-1', Name: 'Upserted Ltd 2' }, 'ERP_Id__c');
  assert.equal(second.success, true);
  assert.equal(second.created, false);
  assert.equal(second.id, first.id);
  const rows = await conn.query("SELECT Name FROM Account WHERE ERP_Id__c = 'ERP-1'");
  assert.equal(rows.totalSize, 1);
  assert.equal(rows.records[0].Name, 'Upserted Ltd 2');
  await assert.rejects(conn.sobject('Account').upsert({ Name: 'x', Phone: '1' }, 'Phone'), (e) => e.errorCode === 'NOT_FOUND');
});

test('collections create 2,500 records in chunks, and query pages over 2,000 rows', async () => {
  const leads = Array.from({ length: 2500 }, (_, i) => ({ LastName: `Paging ${i}`, Company: 'Paging Co' }));
  const results = await conn.sobject('Lead').create(leads, { allowRecursive: true });
  assert.equal(results.length, 2500);
  assert.ok(results.every((r) => r.success));
  const firstPage = await conn.query("SELECT Id, LastName FROM Lead WHERE Company = 'Paging Co'", { autoFetch: false });
  assert.equal(firstPage.totalSize, 2500);
  assert.equal(firstPage.done, false);
  assert.equal(firstPage.records.length, 2000);
  // jsforce makes the URL absolute; the path is Salesforce's.
  assert.match(new URL(firstPage.nextRecordsUrl, org.baseUrl).pathname, /^\/services\/data\/v59\.0\/query\/01g\w+-2000$/);
  const records = [];
  await new Promise((resolve, reject) => {
    conn.query("SELECT Id, LastName FROM Lead WHERE Company = 'Paging Co' ORDER BY LastName")
      .on('record', (r) => records.push(r))
      .on('end', resolve)
      .on('error', reject)
      .run({ autoFetch: true, maxFetch: 10000 });
  });
  assert.equal(records.length, 2500);
  assert.equal(new Set(records.map((r) => r.Id)).size, 2500);
  const sorted = [...records.map((r) => r.LastName)].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));
  assert.equal(records[0].LastName, sorted[0]);
});

test('queryAll returns deleted rows; query does not', async () => {
  const a = await conn.sobject('Contact').create({ LastName: 'Soon Deleted' });
  await conn.sobject('Contact').destroy(a.id);
  const live = await conn.query("SELECT Id FROM Contact WHERE LastName = 'Soon Deleted'");
  assert.equal(live.totalSize, 0);
  const all = await conn.query("SELECT Id, IsDeleted FROM Contact WHERE LastName = 'Soon Deleted'", { scanAll: true });
  assert.equal(all.totalSize, 1);
  assert.equal(all.records[0].IsDeleted, true);
});

test('relationship fields and COUNT()', async () => {
  const res = await conn.query('SELECT Id, Name, Account.Name, Owner.Email FROM Contact WHERE AccountId != null LIMIT 5');
  assert.equal(res.records.length, 5);
  for (const r of res.records) {
    assert.equal(typeof r.Account.Name, 'string');
    assert.equal(r.Owner.attributes.type, 'User');
  }
  const count = await conn.query('SELECT COUNT() FROM Account');
  assert.ok(count.totalSize >= 300);
  assert.deepEqual(count.records, []);
});

test('allOrNone collections roll back every record when one fails', async () => {
  const before = (await conn.query("SELECT COUNT() FROM Account WHERE Name = 'AllOrNone Good'")).totalSize;
  const results = await conn.sobject('Account').create([{ Name: 'AllOrNone Good' }, { Phone: '555' }], { allOrNone: true });
  assert.equal(results[0].success, false);
  assert.equal(results[0].errors[0].statusCode ?? results[0].errors[0].errorCode, 'ALL_OR_NONE_OPERATION_ROLLED_BACK');
  assert.equal(results[1].success, false);
  assert.match(JSON.stringify(results[1].errors), /REQUIRED_FIELD_MISSING/);
  const after = (await conn.query("SELECT COUNT() FROM Account WHERE Name = 'AllOrNone Good'")).totalSize;
  assert.equal(after, before);
});

test('multi-record update and upsert (jsforce sends the id as `id`)', async () => {
  const created = await conn.sobject('Account').create([{ Name: 'Multi A' }, { Name: 'Multi B' }, { Name: 'Multi C' }]);
  assert.ok(created.every((r) => r.success));
  const updated = await conn.sobject('Account').update(created.map((r, i) => ({ Id: r.id, Name: `Multi ${i} updated` })));
  assert.deepEqual(updated.map((r) => r.success), [true, true, true], JSON.stringify(updated));
  assert.deepEqual(updated.map((r) => r.id), created.map((r) => r.id));
  const rows = await conn.query(`SELECT Id, Name FROM Account WHERE Id IN ('${created.map((r) => r.id).join("','")}') ORDER BY Name`);
  assert.deepEqual(rows.records.map((r) => r.Name), ['Multi 0 updated', 'Multi 1 updated', 'Multi 2 updated']);
  const batch = [{ ERP_Id__c: 'MULTI-1', Name: 'Upsert One' }, { ERP_Id__c: 'MULTI-2', Name: 'Upsert Two' }];
  const first = await conn.sobject('Account').upsert(batch, 'ERP_Id__c');
  assert.deepEqual(first.map((r) => [r.success, r.created]), [[true, true], [true, true]], JSON.stringify(first));
  const second = await conn.sobject('Account').upsert(batch.map((r) => ({ ...r, Name: `${r.Name} again` })), 'ERP_Id__c');
  assert.deepEqual(second.map((r) => [r.success, r.created]), [[true, false], [true, false]], JSON.stringify(second));
  assert.deepEqual(second.map((r) => r.id), first.map((r) => r.id));
  const again = await conn.query("SELECT Name FROM Account WHERE ERP_Id__c IN ('MULTI-1', 'MULTI-2') ORDER BY Name");
  assert.deepEqual(again.records.map((r) => r.Name), ['Upsert One again', 'Upsert Two again']);
});

test('an id from a rolled-back request is never given to another record', async () => {
  const rolledBack = await conn.sobject('Contact').create([{ LastName: 'Rolled Back' }, { FirstName: 'No last name' }], { allOrNone: true });
  assert.ok(rolledBack.every((r) => !r.success));
  const handedOut = rolledBack.map((r) => r.id).filter(Boolean);
  const fresh = await conn.sobject('Contact').create([{ LastName: 'After Rollback 1' }, { LastName: 'After Rollback 2' }]);
  for (const r of fresh) {
    assert.ok(r.success);
    assert.ok(!handedOut.includes(r.id), `${r.id} was handed out in the rolled-back request`);
    const back = await conn.sobject('Contact').retrieve(r.id);
    assert.equal(back.Id, r.id);
  }
});

test('the control API answers in the camelCase it accepts', async () => {
  const set = await org.control('/settings', { accessTokenTtlSecs: 7200, visibilityDelaySecs: 0, bulkQueueMs: 0 });
  const got = await org.control('/settings', undefined, 'GET');
  for (const answer of [set, got]) {
    assert.deepEqual(Object.keys(answer).sort(), ['accessTokenTtlSecs', 'bulkQueueMs', 'dailyApiLimit', 'restrictClients', 'visibilityDelaySecs']);
    assert.equal(answer.accessTokenTtlSecs, 7200);
    assert.equal(answer.bulkQueueMs, 0);
  }
});

test('Bulk API 2.0 insert reports successes and failures per row', async () => {
  const csv = 'Name,Industry,NumberOfEmployees\nBulk One,Technology,10\nBulk Two,Banking,20\n,Retail,5\nBulk Four,Energy,notanumber\n';
  const res = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: csv, pollInterval: 200, pollTimeout: 60000 });
  assert.equal(res.successfulResults.length, 2);
  assert.equal(res.failedResults.length, 2);
  assert.ok(res.successfulResults.every((r) => /^001/.test(r.sf__Id) && r.sf__Created === 'true'));
  const errors = res.failedResults.map((r) => r.sf__Error).join('\n');
  assert.match(errors, /REQUIRED_FIELD_MISSING:Required fields are missing: \[Name\]:Name --/);
  assert.match(errors, /INVALID_TYPE_ON_FIELD_IN_RECORD/);
  assert.deepEqual(res.unprocessedRecords, []);
});

test('Bulk API 2.0 query streams every row', async () => {
  const stream = await conn.bulk2.query("SELECT Id, LastName FROM Lead WHERE Company = 'Paging Co'");
  const rows = await new Promise((resolve, reject) => {
    const out = [];
    stream.on('record', (r) => out.push(r)).on('end', () => resolve(out)).on('error', reject);
  });
  assert.equal(rows.length, 2500);
  assert.ok(rows.every((r) => /^00Q/.test(r.Id)));
});

test('errors come back typed: bad SOQL, bad id, unknown object', async () => {
  await assert.rejects(conn.query('SELEC Id FROM Account'), (e) => e.errorCode === 'MALFORMED_QUERY' && /unexpected token/.test(e.message));
  await assert.rejects(conn.query('SELECT Id, Nope__c FROM Account'), (e) => e.errorCode === 'INVALID_FIELD' && /No such column 'Nope__c'/.test(e.message));
  await assert.rejects(conn.query('SELECT Id FROM Nope__c'), (e) => e.errorCode === 'INVALID_TYPE');
  await assert.rejects(conn.sobject('Account').update({ Id: '003000000000001', Name: 'x' }), (e) => e.errorCode === 'MALFORMED_ID');
  await assert.rejects(conn.sobject('Account').retrieve('001000000000001'), (e) => e.errorCode === 'NOT_FOUND');
});

test('an expired session is refreshed with the refresh token', async () => {
  const oldToken = conn.accessToken;
  let refreshed = false;
  conn.on('refresh', () => { refreshed = true; });
  await org.control('/tokens/expire');
  const res = await conn.query('SELECT Id FROM Account LIMIT 1');
  assert.equal(res.records.length, 1);
  assert.equal(refreshed, true);
  assert.notEqual(conn.accessToken, oldToken);
});

test('limits and the Sforce-Limit-Info header', async () => {
  const limits = await conn.limits();
  assert.equal(limits.DailyApiRequests.Max, 15000);
  assert.ok(limits.DailyApiRequests.Remaining < 15000);
  const res = await fetch(`${org.baseUrl}/services/data/v59.0/limits`, { headers: { Authorization: `Bearer ${conn.accessToken}` } });
  assert.match(res.headers.get('sforce-limit-info'), /^api-usage=\d+\/15000$/);
});

test('a spent daily allowance answers REQUEST_LIMIT_EXCEEDED', async () => {
  await org.control('/api-usage', { used: 15000 });
  await assert.rejects(conn.query('SELECT Id FROM Account LIMIT 1'), (e) => e.errorCode === 'REQUEST_LIMIT_EXCEEDED');
  await org.control('/api-usage', { used: 0 });
});
