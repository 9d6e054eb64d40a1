export { Ds01Error, type Ds01ErrorOptions, formatDs01Error } from './ds01Error.ts';
