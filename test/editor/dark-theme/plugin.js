'use strict';
module.exports = function registerDarkTheme(RED) {
  RED.plugins.registerPlugin('editor-test-dark', { type: 'node-red-theme', css: 'dark.css' });
};
