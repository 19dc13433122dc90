// Editor code the Roboflow nodes share. Node-RED serves this file from the module's resources/
// folder; every node's .html loads it, so it can run more than once and only the first run counts.
//
// Shared rows: a node's template holds <div data-roboflow-fragment="NAME"></div> and the row is
// written into the template when the node type registers, before any dialog is built from it,
// so the editor populates and validates the shared inputs like any other. Labels are data-i18n
// keys in the node's own namespace ({type}.label.…), which every node's locale file provides.
(function () {
  'use strict';
  if (window.RoboflowEditor) return;

  const FRAGMENTS = {
    name: [
      '<div class="form-row">',
      '<label for="node-input-name"><i class="fa fa-tag"></i> <span data-i18n="{type}.label.name"></span></label>',
      '<input type="text" id="node-input-name" data-i18n="[placeholder]{type}.label.name">',
      '</div>'
    ].join('\n'),
    server: [
      '<div class="form-row">',
      '<label for="node-input-server"><i class="fa fa-server"></i> <span data-i18n="{type}.label.server"></span></label>',
      '<input type="text" id="node-input-server">',
      '</div>'
    ].join('\n'),
    image: [
      '<div class="form-row">',
      '<label for="node-input-image"><i class="fa fa-picture-o"></i> <span data-i18n="{type}.label.image"></span></label>',
      '<input type="text" id="node-input-image">',
      '<input type="hidden" id="node-input-imageType">',
      '</div>'
    ].join('\n'),
    'error-output': [
      '<div class="form-row">',
      '<label></label>',
      '<input type="checkbox" id="node-input-errorOutput" style="width: auto; margin: 0 6px 0 0;">',
      '<label for="node-input-errorOutput" style="width: auto;" data-i18n="{type}.label.errorOutput"></label>',
      '</div>'
    ].join('\n'),
    'flow-control': [
      '<h4 data-i18n="{type}.group.flow"></h4>',
      '<div class="form-row">',
      '<label for="node-input-maxInFlight" data-i18n="{type}.label.maxInFlight"></label>',
      '<input type="text" id="node-input-maxInFlight" style="width: 80px;">',
      '</div>',
      '<div class="form-row">',
      '<label for="node-input-overflow" data-i18n="{type}.label.overflow"></label>',
      '<select id="node-input-overflow">',
      '<option value="queue" data-i18n="{type}.overflow.queue"></option>',
      '<option value="latest" data-i18n="{type}.overflow.latest"></option>',
      '<option value="drop" data-i18n="{type}.overflow.drop"></option>',
      '</select>',
      '</div>',
      '<div class="form-row roboflow-queue-size-row">',
      '<label for="node-input-queueSize" data-i18n="{type}.label.queueSize"></label>',
      '<input type="text" id="node-input-queueSize" style="width: 80px;">',
      '</div>'
    ].join('\n')
  };
  const PLACEHOLDER = /<div data-roboflow-fragment="([\w-]+)"><\/div>/g;

  function expandTemplate(type) {
    const template = $('script[data-template-name="' + type + '"]');
    const source = template.text();
    const expanded = source.replace(PLACEHOLDER, function (placeholder, name) {
      if (!FRAGMENTS[name]) throw new Error(type + ': no shared editor fragment "' + name + '"');
      return FRAGMENTS[name].replace(/\{type\}/g, type);
    });
    if (expanded !== source) template.text(expanded);
  }

  RED.events.on('registry:node-type-added', function (type) {
    if (/^roboflow-/.test(type)) expandTemplate(type);
  });

  window.RoboflowEditor = {
    /** The image property: where in the message or context the image is read from. */
    imageInput: function () {
      $('#node-input-image').typedInput({ typeField: '#node-input-imageType', types: ['msg', 'flow', 'global'] });
    },
    /** The queue size only matters when overflow messages queue. */
    flowControl: function () {
      $('#node-input-overflow').on('change', function () {
        $('.roboflow-queue-size-row').toggle($(this).val() === 'queue');
      }).trigger('change');
    },
    /** Why a call to this package's admin endpoints failed: their own reason, else the HTTP status. */
    adminError: function (xhr) {
      return (xhr.responseJSON && xhr.responseJSON.error) || xhr.statusText;
    },
    /** A second output for failed messages exists only while the error-output box is ticked. */
    saveErrorOutput: function (node) {
      node.outputs = $('#node-input-errorOutput').is(':checked') ? 2 : 1;
    }
  };
})();
