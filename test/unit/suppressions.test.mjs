// Suppression patterns: one pattern matches a frame or the creating function; a `;`-separated line
// matches only when each of its patterns does (one site's frames, as `sspi-agent baseline` writes them).
import assert from 'node:assert/strict';
import { parseSuppressions } from '../../dist/suppressions.js';

const frames = ['at Object.acceptContext (file:///srv/app/lib/sspi.mjs:277:24)', 'at login (file:///srv/app/server.mjs:62:21)'];

describe('suppressions', function () {
  it('matches a single pattern against each frame and the creating function', function () {
    const s = parseSuppressions('# a comment\nleak:*server.mjs:62:*\nInitializeSecurityContextW\n');
    assert.equal(s.match(frames, 'AcceptSecurityContext'), '*server.mjs:62:*');
    assert.equal(s.match(['at x (file:///srv/app/other.mjs:1:1)'], 'InitializeSecurityContextW'), 'InitializeSecurityContextW');
    assert.equal(s.match(['at x (file:///srv/app/server.mjs:620:1)'], 'AcceptSecurityContext'), undefined, 'line 620 is not line 62');
  });

  it('matches a `;`-separated line only when every pattern matches', function () {
    const s = parseSuppressions('leak:*lib*sspi.mjs:277:*;*server.mjs:62:*\n');
    assert.equal(s.match(frames, 'AcceptSecurityContext'), '*lib*sspi.mjs:277:*;*server.mjs:62:*');
    const otherCaller = [frames[0], 'at login (file:///srv/app/server.mjs:99:21)'];
    assert.equal(s.match(otherCaller, 'AcceptSecurityContext'), undefined, 'the same binding line from another site');
  });
});
