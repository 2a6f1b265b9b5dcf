/*
 * Live SMS segment counter for the browser: the same rules as packages/core `countSegments`
 * (GSM 03.38 basic + extension table, else UCS2; 160/153 septets or 70/67 UTF-16 units per part;
 * an extension character takes 2 septets; a surrogate pair never splits). A unit test runs this file
 * in node's vm and compares it with the core function over many strings, so the two cannot drift.
 */
// eslint-disable-next-line no-unused-vars
var SmsCounter = (function () {
  'use strict';
  var ESC = 0x1b;
  var BASIC =
    '@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5' +
    '\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\x1b\u00c6\u00e6\u00df\u00c9' +
    ' !"#\u00a4%&\'()*+,-./' +
    '0123456789:;<=>?' +
    '\u00a1ABCDEFGHIJKLMNO' +
    'PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7' +
    '\u00bfabcdefghijklmno' +
    'pqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0';
  var EXTENSION = '\f^{}\\[~]|\u20ac';
  var LIMITS = {
    GSM7: { single: 160, concat8: 153, concat16: 152 },
    UCS2: { single: 70, concat8: 67, concat16: 66 },
  };
  // 0 = not GSM7, 1 = basic (one septet), 2 = extension (ESC + code: two septets).
  var WEIGHT = {};
  for (var i = 0; i < BASIC.length; i++) if (i !== ESC) WEIGHT[BASIC.charAt(i)] = 1;
  for (var j = 0; j < EXTENSION.length; j++) WEIGHT[EXTENSION.charAt(j)] = 2;

  function gsmWeight(ch) {
    return WEIGHT[ch] || 0;
  }
  function isHigh(u) {
    return u >= 0xd800 && u <= 0xdbff;
  }
  function isLow(u) {
    return u >= 0xdc00 && u <= 0xdfff;
  }

  /** Septets of the whole text, or -1 when a character is not GSM7. */
  function gsm7Units(text) {
    var units = 0;
    for (var k = 0; k < text.length; k++) {
      var w = gsmWeight(text.charAt(k));
      if (!w) return -1;
      units += w;
    }
    return units;
  }

  function charWeight(text, k, encoding) {
    if (encoding === 'GSM7') return gsmWeight(text.charAt(k));
    var u = text.charCodeAt(k);
    return isHigh(u) && k + 1 < text.length && isLow(text.charCodeAt(k + 1)) ? 2 : 1;
  }

  /**
   * { encoding: 'GSM7'|'UCS2', segments, units, charsLeftInSegment } exactly as core countSegments.
   * opts.ref16: 16-bit concatenation reference (one unit less per part).
   */
  function countSegments(text, opts) {
    var septets = gsm7Units(text);
    var encoding = septets < 0 ? 'UCS2' : 'GSM7';
    var units = septets < 0 ? text.length : septets;
    var limits = LIMITS[encoding];
    if (units <= limits.single) {
      return { encoding: encoding, segments: 1, units: units, charsLeftInSegment: limits.single - units };
    }
    var limit = opts && opts.ref16 ? limits.concat16 : limits.concat8;
    var segments = 0;
    var partUnits = 0;
    var k = 0;
    while (k < text.length) {
      var w = charWeight(text, k, encoding);
      if (partUnits + w > limit) {
        segments++;
        partUnits = 0;
      }
      partUnits += w;
      k += encoding === 'UCS2' ? w : 1;
    }
    segments++;
    return { encoding: encoding, segments: segments, units: units, charsLeftInSegment: limit - partUnits };
  }

  return { countSegments: countSegments };
})();
