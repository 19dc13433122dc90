// Generic probes of an open edit dialog, driven by the node type's own definition (its defaults
// and validators), so every node, including ones added later, is exercised the same way.
import type { Page } from 'playwright-core';

// Browser globals, for the callbacks that run in the page (the test tsconfig has no DOM lib).
declare const window: any, document: any;

export type FieldKind = 'text' | 'select' | 'checkbox' | 'typed';
export interface DialogField {
  property: string;
  kind: FieldKind;
  validated: boolean;
  required: boolean;
  /** A property holding the id of a config node (rendered as a select of config nodes). */
  configReference: boolean;
}
export type FieldValue = string | boolean | { type: string; value: string };

/** The prefix of a dialog's input ids: flow nodes use node-input-, config nodes node-config-input-. */
export function inputPrefix(isConfig: boolean): string {
  return isConfig ? 'node-config-input' : 'node-input';
}

export async function dialogFields(page: Page, type: string, prefix: string): Promise<DialogField[]> {
  return page.evaluate(
    ([nodeType, idPrefix]) => {
      const definition = window.RED.nodes.getType(nodeType);
      const fields: DialogField[] = [];
      for (const [property, spec] of Object.entries<any>(definition.defaults ?? {})) {
        const element = document.getElementById(`${idPrefix}-${property}`);
        if (!element) continue;
        const tag: string = element.tagName;
        let kind: FieldKind | undefined;
        if (element.nextElementSibling?.classList.contains('red-ui-typedInput-container')) kind = 'typed';
        else if (tag === 'SELECT') kind = 'select';
        else if (tag === 'INPUT' && element.type === 'checkbox') kind = 'checkbox';
        else if (tag === 'TEXTAREA') kind = 'text';
        else if (tag === 'INPUT' && ['text', 'number', 'url', ''].includes(element.type)) kind = 'text';
        if (!kind) continue;
        fields.push({
          property,
          kind,
          validated: Boolean(spec.validate || spec.required),
          required: Boolean(spec.required),
          configReference: Boolean(spec.type),
        });
      }
      return fields;
    },
    [type, prefix] as const,
  );
}

export async function readField(page: Page, prefix: string, field: DialogField): Promise<FieldValue> {
  return page.evaluate(
    ([id, kind]) => {
      const $ = window.$;
      const element = $(`#${id}`);
      if (kind === 'checkbox') return element.prop('checked') as boolean;
      if (kind === 'typed') return { type: element.typedInput('type'), value: element.typedInput('value') };
      return String(element.val() ?? '');
    },
    [`${prefix}-${field.property}`, field.kind] as const,
  );
}

/** Sets a field the way the editor's own change handlers see it, and reports whether it is marked invalid. */
export async function writeField(page: Page, prefix: string, field: DialogField, value: FieldValue): Promise<boolean> {
  return page.evaluate(
    ([id, kind, newValue]) => {
      const $ = window.$;
      const element = $(`#${id}`);
      if (kind === 'checkbox') element.prop('checked', newValue).trigger('change');
      else if (kind === 'typed') {
        const typed = newValue as { type: string; value: string };
        element.typedInput('type', typed.type);
        element.typedInput('value', typed.value);
      } else element.val(newValue).trigger('change');
      return element.hasClass('input-error') || element.next('.red-ui-typedInput-container').hasClass('input-error');
    },
    [`${prefix}-${field.property}`, field.kind, value] as const,
  );
}

export async function isMarkedInvalid(page: Page, prefix: string, property: string): Promise<boolean> {
  return page.evaluate((id) => {
    const $ = window.$;
    const element = $(`#${id}`);
    return element.hasClass('input-error') || element.next('.red-ui-typedInput-container').hasClass('input-error');
  }, `${prefix}-${property}`);
}

/** Values a validator might reject: words where numbers belong, numbers out of any sane range. */
export const BAD_VALUES = ['not-a-number', '-1', '1e9', '1.5.5', ' '];
/** Values that should satisfy most validators, tried in order for the save/reopen round trip. */
const GOOD_TEXT_VALUES = ['0.35', '3', 'edited-by-editor-test'];

/** Options a select or TypedInput offers, so a test can pick a different one. */
async function alternatives(page: Page, prefix: string, field: DialogField): Promise<string[]> {
  return page.evaluate(
    ([id, kind]) => {
      const $ = window.$;
      const element = $(`#${id}`);
      if (kind === 'select') {
        return Array.from<{ disabled: boolean; value: string }>(element[0].options)
          .filter((option) => !option.disabled && option.value !== '_ADD_')
          .map((option) => option.value);
      }
      return (element.data('noderedTypedInput').typeList as Array<{ value: string }>).map((entry) => entry.value);
    },
    [`${prefix}-${field.property}`, field.kind] as const,
  );
}

/**
 * Changes every field of the open dialog to another valid value and returns what the dialog shows
 * afterwards (a select can reveal or reset other fields, so the expectation is read back).
 */
export async function editEveryField(page: Page, prefix: string, fields: DialogField[]): Promise<Record<string, FieldValue>> {
  for (const field of fields) {
    if (field.configReference) continue;
    const current = await readField(page, prefix, field);
    if (field.kind === 'checkbox') {
      await writeField(page, prefix, field, !current);
    } else if (field.kind === 'select') {
      const other = (await alternatives(page, prefix, field)).find((value) => value !== current);
      if (other !== undefined && (await writeField(page, prefix, field, other))) await writeField(page, prefix, field, current);
    } else if (field.kind === 'typed') {
      const typed = current as { type: string; value: string };
      for (const type of (await alternatives(page, prefix, field)).filter((value) => value !== typed.type)) {
        if (!(await writeField(page, prefix, field, { type, value: typed.value }))) break;
        await writeField(page, prefix, field, typed);
      }
    } else {
      const candidates = field.property === 'name' ? ['renamed by editor test'] : GOOD_TEXT_VALUES;
      for (const candidate of candidates.filter((value) => value !== current)) {
        if (!(await writeField(page, prefix, field, candidate))) break;
        await writeField(page, prefix, field, current);
      }
    }
  }
  return readEveryField(page, prefix, fields);
}

export async function readEveryField(page: Page, prefix: string, fields: DialogField[]): Promise<Record<string, FieldValue>> {
  const shown: Record<string, FieldValue> = {};
  for (const field of fields) if (!field.configReference) shown[field.property] = await readField(page, prefix, field);
  return shown;
}

/** Clicks a TypedInput's type button and picks `type` from its menu, as a user would. */
export async function chooseTypedInputType(page: Page, prefix: string, property: string, type: string): Promise<void> {
  const container = page.locator(`#${prefix}-${property} + .red-ui-typedInput-container`);
  await container.locator('.red-ui-typedInput-type-select').click();
  await page.locator(`.red-ui-typedInput-options:visible a[value="${type}"]`).click();
  await page.locator('.red-ui-typedInput-options:visible').waitFor({ state: 'hidden' });
}

/**
 * Tray parts wider inside than their box: a dialog that needs a horizontal scroll bar. The tray
 * body holds one scrolling .red-ui-tray-content per dialog tab, and that is where it shows.
 */
export async function overflowingTrayBodies(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    Array.from<any>(document.querySelectorAll('.red-ui-tray-body, .red-ui-tray-content'))
      .filter((part) => part.offsetParent !== null && part.scrollWidth > part.clientWidth)
      .map((part) => `${part.className}: ${part.scrollWidth} > ${part.clientWidth}`),
  );
}
