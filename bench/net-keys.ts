/**
 * How the suites that take `--net` name their figures and reports: a run on an emulated link
 * keeps the loopback keys with the setting appended (`_lan`, `_wan4`, `_wan40`, `_net_rtt10ms_...`),
 * and its report files are bench/results/<suite>-<setting>.{json,md}.
 */
import { describeNetSetting, type NetSetting } from '../parties/netem/settings.js';

/** '' for loopback (no --net, or --net none), else `_<tag>` */
export function netSuffix(net: NetSetting | undefined): string {
  return net?.tag ? `_${net.tag}` : '';
}

/** every key with netSuffix appended */
export function suffixKeys(figures: Record<string, number>, net: NetSetting | undefined): Record<string, number> {
  const sfx = netSuffix(net);
  if (sfx === '') return figures;
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${k}${sfx}`, v]));
}

/** the report's base name: the suite, or `<suite>-<setting>` with --net (`-none` for an explicit --net none); network has one */
export function reportName(suite: string, net: NetSetting | undefined): string {
  if (net === undefined || suite === 'network') return suite;
  return `${suite}-${net.tag === '' ? 'none' : net.tag}`;
}

/** for titles: 'sealed WebSockets on loopback' or '... through an emulated link (wan40: 40 ms RTT ...)' */
export function linkLabel(net: NetSetting | undefined): string {
  return net?.link === undefined ? 'sealed WebSockets on loopback' : `sealed WebSockets through an emulated link (${describeNetSetting(net)})`;
}
