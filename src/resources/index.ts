// Owns the list of resource operations (the /common and /admin parts of the route table).
import type { Operation } from '../api/operation';
import { activityOperations } from './activities/operations';
import { noteOperations } from './notes/operations';
import { userOperations } from './users/operations';

export const resourceOperations: Operation[] = [...activityOperations, ...noteOperations, ...userOperations];
