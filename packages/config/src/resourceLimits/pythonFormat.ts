/**
 * How Python's str() prints a value, so that DS01 prints the limits exactly as ds01-infra's
 * `get_resource_limits.py --json` does. YAML `1` is an int and prints `1`; YAML `1.0` is a float
 * and prints `1.0`: a number alone cannot tell, so callers say whether it was written as a float.
 */
export function pythonStr(value: unknown, isFloat = false): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number')
    return isFloat || !Number.isInteger(value) ? pythonFloat(value) : pythonInt(value);
  if (value instanceof Date)
    return value
      .toISOString()
      .replace('T', ' ')
      .replace(/\.000Z$|Z$/, '');
  return String(value);
}

function pythonInt(value: number): string {
  return Number.isSafeInteger(value) ? String(value) : BigInt(value).toString();
}

/**
 * repr() of a Python float: the shortest digits that read back as the same double (as JavaScript
 * also finds them), in positional notation for exponents -4 to 15 and with a trailing `.0` when
 * whole; otherwise scientific as `1e-05` / `1.5e+16`.
 */
export function pythonFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Object.is(value, -0)) return '-0.0';
  const [mantissa = '', exponentText = '0'] = value.toExponential().split('e');
  const exponent = Number(exponentText);
  const sign = mantissa.startsWith('-') ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exponent < -4 || exponent >= 16) {
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const power = Math.abs(exponent).toString().padStart(2, '0');
    return `${sign}${head}e${exponent < 0 ? '-' : '+'}${power}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}
