// Text in an open dialog that is hard to read against what is behind it: catches node dialogs
// that hard-code colours instead of using the editor's theme variables.
import type { Page } from 'playwright-core';

// Browser globals, for the callbacks that run in the page (the test tsconfig has no DOM lib).
declare const document: any, getComputedStyle: any;

/** WCAG's minimum contrast for large text and user-interface components. */
export const MINIMUM_CONTRAST = 3;

export interface PoorContrast {
  text: string;
  colour: string;
  background: string;
  contrast: number;
}

export async function poorlyContrastedText(page: Page): Promise<PoorContrast[]> {
  return page.evaluate((minimum) => {
    const TEXT_NODE = 3;
    const parse = (colour: string): number[] => (colour.match(/[\d.]+/g) ?? []).map(Number);
    const luminance = ([r, g, b]: number[]) => {
      const channel = (value: number) => {
        const scaled = value / 255;
        return scaled <= 0.03928 ? scaled / 12.92 : ((scaled + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
    };
    const backgroundOf = (element: any): string => {
      for (let current = element; current; current = current.parentElement) {
        const background = getComputedStyle(current).backgroundColor;
        const [, , , alpha = 1] = parse(background);
        if (alpha > 0.5) return background;
      }
      return 'rgb(255, 255, 255)';
    };
    const findings: PoorContrast[] = [];
    for (const body of Array.from<any>(document.querySelectorAll('.red-ui-tray-body'))) {
      if (body.offsetParent === null) continue;
      for (const element of Array.from<any>(body.querySelectorAll('*'))) {
        const ownText = Array.from<any>(element.childNodes)
          .filter((child) => child.nodeType === TEXT_NODE)
          .map((child) => child.textContent?.trim() ?? '')
          .join(' ')
          .trim();
        if (!ownText || element.offsetParent === null || element.closest(':disabled, .disabled, [disabled]')) continue;
        const style = getComputedStyle(element);
        if (style.visibility === 'hidden' || Number(style.opacity) < 0.5) continue;
        const background = backgroundOf(element);
        const [lighter, darker] = [luminance(parse(style.color)), luminance(parse(background))].sort((a, b) => b - a);
        const contrast = (lighter + 0.05) / (darker + 0.05);
        if (contrast < minimum) {
          findings.push({ text: ownText.slice(0, 60), colour: style.color, background, contrast: Math.round(contrast * 100) / 100 });
        }
      }
    }
    return findings;
  }, MINIMUM_CONTRAST);
}
